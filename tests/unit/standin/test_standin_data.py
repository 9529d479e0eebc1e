"""The backend against real PostgreSQL (under RLS, as the non-owner app role) and Redis (ACL user, summary cache)."""

from __future__ import annotations

from ansible_collections.dese.ea_plan.plugins.filter.jwt import jwt_encode

from standin_helpers import ACME, GLOBEX, JWT_SECRET, free_port

# The migration set's demo seed (tests/standin/drizzle/README.md): every figure differs between the tenants.
EXPECTED = {
    ACME: {"finance": {"invoices": 12, "invoice_total": 11700.0, "transactions": 20}, "system": {"users": 3},
           "iot": {"devices": 5, "telemetry_points": 50}, "ai": {"deals": 4, "pipeline_value": 50000.0}},
    GLOBEX: {"finance": {"invoices": 5, "invoice_total": 8750.0, "transactions": 8}, "system": {"users": 2},
             "iot": {"devices": 3, "telemetry_points": 18}, "ai": {"deals": 6, "pipeline_value": 7200.0}},
}


def bearer(org: str | None, role: str = "admin") -> dict:
    claims = {"id": "11111111-1111-4111-8111-0000000000a1", "email": "admin@acme.example", "role": role,
              "organizationId": org}
    return {"Authorization": "Bearer " + jwt_encode({k: v for k, v in claims.items() if v}, JWT_SECRET, ttl=300)}


def summary(backend, org: str, role: str = "admin") -> dict:
    status, _, body = backend.get("/api/v1/ceo/summary", headers=bearer(org, role))
    assert status == 200, body
    return body


def figures(body: dict) -> dict:
    return {key: body[key] for key in ("finance", "system", "iot", "ai")}


def test_summary_sees_only_its_tenant_under_rls(start, postgres):
    backend = start("backend", DATABASE_URL=postgres["url"], REDIS_URL=f"redis://dese_app:x@127.0.0.1:{free_port()}",
                    DATABASE_POOL_MAX="1")
    # One pooled connection serves every request: a setting leaking between transactions would show here.
    for org in (ACME, GLOBEX, ACME, GLOBEX):
        body = summary(backend, org)
        assert figures(body) == EXPECTED[org]
        assert body["organizationId"] == org and body["cache"] == "miss"  # Redis is down: no cache, still served


def test_super_admin_crosses_tenants_only_where_the_policy_allows(start, postgres):
    backend = start("backend", DATABASE_URL=postgres["url"], REDIS_URL=f"redis://dese_app:x@127.0.0.1:{free_port()}")
    body = summary(backend, ACME, role="super_admin")
    assert body["finance"]["invoices"] == 17  # the app's own policies OR in is_super_admin()
    assert body["system"]["users"] == 3  # the tenant_isolation policy has no super-admin escape


def test_missing_tables_answer_500_not_a_partial_summary(start, postgres):
    backend = start("backend", DATABASE_URL=postgres["empty_url"],
                    REDIS_URL=f"redis://dese_app:x@127.0.0.1:{free_port()}")
    status, _, body = backend.get("/api/v1/ceo/summary", headers=bearer(ACME))
    assert status == 500 and body == {"error": "Database error"}


def test_health_ready_and_cache_with_both_dependencies(start, postgres, redis_server):
    backend = start("backend", APP_VERSION="2", DATABASE_URL=postgres["url"], REDIS_URL=redis_server["url"])
    status, _, body = backend.get("/health")
    assert status == 200 and body["status"] == "healthy" and body["version"] == "2"
    assert body["checks"] == {"database": "up", "redis": "up"}
    assert backend.get("/health/ready")[0] == 200

    admin = redis_server["admin"]
    admin.delete(f"dese:summary:{GLOBEX}")
    hits_before = int(admin.info("stats")["keyspace_hits"])
    first = summary(backend, GLOBEX)
    second = summary(backend, GLOBEX)
    assert first["cache"] == "miss" and second["cache"] == "hit"
    assert figures(first) == figures(second) == EXPECTED[GLOBEX]
    assert 0 < admin.ttl(f"dese:summary:{GLOBEX}") <= 30
    assert int(admin.info("stats")["keyspace_hits"]) > hits_before  # the exporter's hit rate has something to show

    summary(backend, ACME, role="super_admin")
    assert not admin.exists(f"dese:summary:{ACME}"), "a super admin's cross-tenant view must not be cached"

    _, _, metrics = backend.get("/metrics")
    assert 'database_connection_pool_size{type="primary"} ' in metrics
    pool_size = [line for line in metrics.splitlines() if line.startswith("database_connection_pool_size")]
    assert float(pool_size[0].split()[-1]) >= 1


def test_redis_cluster_flag_trap_breaks_the_redis_check(start, postgres, redis_server):
    backend = start("backend", DATABASE_URL=postgres["url"], REDIS_URL=redis_server["url"],
                    REDIS_CLUSTER_ENABLED="false")
    status, _, body = backend.get("/health")
    assert status == 503 and body["checks"] == {"database": "up", "redis": "down"}
    assert body["features"]["redisCluster"] is True


def test_wrong_redis_password_is_a_failed_dependency(start, postgres, redis_server):
    url = redis_server["url"].replace("StandinRedis0nly", "wrong")
    backend = start("backend", DATABASE_URL=postgres["url"], REDIS_URL=url)
    assert backend.get("/health/ready")[0] == 503
    assert figures(summary(backend, ACME)) == EXPECTED[ACME]  # served from PostgreSQL without the cache


def test_app_role_connection_is_not_privileged(postgres):
    """The fixture's premise: the app connects as a NOSUPERUSER, NOBYPASSRLS role that owns no table."""
    rows = postgres["cluster"].execute(
        "SELECT rolsuper, rolbypassrls, (SELECT count(*) FROM pg_tables WHERE tableowner = 'dese_app') "
        "FROM pg_roles WHERE rolname = 'dese_app'", database="dese")
    assert rows == [(False, False, 0)]
