-- Deterministic demo data for two organizations; the figures are listed in README.md (every row count and sum differs
-- between the two, so a tenant leak shows up as a wrong number). Demo password for every user: "demo-password".
INSERT INTO "organizations" ("id", "name", "slug", "created_at") VALUES
	('11111111-1111-4111-8111-111111111111', 'Acme Corporation', 'acme', '2026-01-01T00:00:00Z'),
	('22222222-2222-4222-8222-222222222222', 'Globex Corporation', 'globex', '2026-01-01T00:00:00Z');
--> statement-breakpoint
INSERT INTO "users" ("id", "organization_id", "email", "password_hash", "role", "created_at") VALUES
	('11111111-1111-4111-8111-0000000000a1', '11111111-1111-4111-8111-111111111111', 'admin@acme.example', '$2b$10$Vhtf.oDWQg8f3x92diO8eO3KT1zGvOrbWvvfVLdg6s/AoLdJRlAme', 'admin', '2026-01-01T00:00:00Z'),
	('11111111-1111-4111-8111-0000000000a2', '11111111-1111-4111-8111-111111111111', 'alice@acme.example', '$2b$10$Vhtf.oDWQg8f3x92diO8eO3KT1zGvOrbWvvfVLdg6s/AoLdJRlAme', 'user', '2026-01-01T00:00:00Z'),
	('11111111-1111-4111-8111-0000000000a3', '11111111-1111-4111-8111-111111111111', 'bob@acme.example', '$2b$10$Vhtf.oDWQg8f3x92diO8eO3KT1zGvOrbWvvfVLdg6s/AoLdJRlAme', 'user', '2026-01-01T00:00:00Z'),
	('22222222-2222-4222-8222-0000000000b1', '22222222-2222-4222-8222-222222222222', 'admin@globex.example', '$2b$10$Vhtf.oDWQg8f3x92diO8eO3KT1zGvOrbWvvfVLdg6s/AoLdJRlAme', 'admin', '2026-01-01T00:00:00Z'),
	('22222222-2222-4222-8222-0000000000b2', '22222222-2222-4222-8222-222222222222', 'hank@globex.example', '$2b$10$Vhtf.oDWQg8f3x92diO8eO3KT1zGvOrbWvvfVLdg6s/AoLdJRlAme', 'user', '2026-01-01T00:00:00Z');
--> statement-breakpoint
INSERT INTO "invoices" ("organization_id", "number", "amount", "status", "issued_at")
	SELECT '11111111-1111-4111-8111-111111111111', 'ACME-' || lpad(g::text, 4, '0'), 150.00 * g, 'paid',
		'2026-01-01T00:00:00Z'::timestamptz + g * interval '1 day'
	FROM generate_series(1, 12) AS g;
--> statement-breakpoint
INSERT INTO "invoices" ("organization_id", "number", "amount", "status", "issued_at")
	SELECT '22222222-2222-4222-8222-222222222222', 'GLX-' || lpad(g::text, 4, '0'), 1000.00 + 250.00 * g, 'sent',
		'2026-01-01T00:00:00Z'::timestamptz + g * interval '1 day'
	FROM generate_series(1, 5) AS g;
--> statement-breakpoint
INSERT INTO "transactions" ("organization_id", "amount", "kind", "booked_at")
	SELECT '11111111-1111-4111-8111-111111111111', 25.50 * g, 'credit', '2026-01-01T00:00:00Z'::timestamptz + g * interval '1 hour'
	FROM generate_series(1, 20) AS g;
--> statement-breakpoint
INSERT INTO "transactions" ("organization_id", "amount", "kind", "booked_at")
	SELECT '22222222-2222-4222-8222-222222222222', 99.99, 'debit', '2026-01-01T00:00:00Z'::timestamptz + g * interval '1 hour'
	FROM generate_series(1, 8) AS g;
--> statement-breakpoint
INSERT INTO "deals" ("organization_id", "title", "value", "created_at")
	SELECT '11111111-1111-4111-8111-111111111111', 'Acme deal ' || g, 5000.00 * g, '2026-01-01T00:00:00Z'
	FROM generate_series(1, 4) AS g;
--> statement-breakpoint
INSERT INTO "deals" ("organization_id", "title", "value", "created_at")
	SELECT '22222222-2222-4222-8222-222222222222', 'Globex deal ' || g, 1200.00, '2026-01-01T00:00:00Z'
	FROM generate_series(1, 6) AS g;
--> statement-breakpoint
INSERT INTO "devices" ("organization_id", "name", "status", "last_seen_at")
	SELECT '11111111-1111-4111-8111-111111111111', 'acme-sensor-' || lpad(g::text, 2, '0'),
		CASE WHEN g <= 3 THEN 'online' ELSE 'offline' END, '2026-01-01T00:00:00Z'
	FROM generate_series(1, 5) AS g;
--> statement-breakpoint
INSERT INTO "devices" ("organization_id", "name", "status", "last_seen_at")
	SELECT '22222222-2222-4222-8222-222222222222', 'globex-sensor-' || lpad(g::text, 2, '0'),
		CASE WHEN g = 1 THEN 'online' ELSE 'offline' END, '2026-01-01T00:00:00Z'
	FROM generate_series(1, 3) AS g;
--> statement-breakpoint
INSERT INTO "telemetry" ("organization_id", "device_id", "metric", "value", "recorded_at")
	SELECT d."organization_id", d."id", 'temperature', 20 + g * 0.5, '2026-01-01T00:00:00Z'::timestamptz + g * interval '1 minute'
	FROM "devices" AS d CROSS JOIN generate_series(1, 10) AS g
	WHERE d."organization_id" = '11111111-1111-4111-8111-111111111111';
--> statement-breakpoint
INSERT INTO "telemetry" ("organization_id", "device_id", "metric", "value", "recorded_at")
	SELECT d."organization_id", d."id", 'temperature', 30 + g, '2026-01-01T00:00:00Z'::timestamptz + g * interval '1 minute'
	FROM "devices" AS d CROSS JOIN generate_series(1, 6) AS g
	WHERE d."organization_id" = '22222222-2222-4222-8222-222222222222';
--> statement-breakpoint
INSERT INTO "activities" ("organization_id", "kind", "note", "occurred_at")
	SELECT '11111111-1111-4111-8111-111111111111', 'call', 'Acme call ' || g, '2026-01-01T00:00:00Z'::timestamptz + g * interval '1 day'
	FROM generate_series(1, 7) AS g;
--> statement-breakpoint
INSERT INTO "activities" ("organization_id", "kind", "note", "occurred_at")
	SELECT '22222222-2222-4222-8222-222222222222', 'email', 'Globex email ' || g, '2026-01-01T00:00:00Z'::timestamptz + g * interval '1 day'
	FROM generate_series(1, 11) AS g;
