-- The app's own tenant policies (its style: helper functions OR-ed with a super-admin check), kept inlinable:
-- LANGUAGE sql STABLE functions without EXCEPTION blocks, so the planner folds them into the query.
CREATE OR REPLACE FUNCTION "current_organization_id"() RETURNS uuid
	LANGUAGE sql STABLE PARALLEL SAFE
	AS $$ SELECT NULLIF(current_setting('app.current_organization_id', true), '')::uuid $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "is_super_admin"() RETURNS boolean
	LANGUAGE sql STABLE PARALLEL SAFE
	AS $$ SELECT coalesce(current_setting('app.current_user_role', true), '') = 'super_admin' $$;
--> statement-breakpoint
ALTER TABLE "invoices" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "invoices_org_isolation" ON "invoices" AS PERMISSIVE FOR ALL
	USING ("organization_id" = current_organization_id() OR is_super_admin())
	WITH CHECK ("organization_id" = current_organization_id() OR is_super_admin());
--> statement-breakpoint
ALTER TABLE "transactions" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "transactions_org_isolation" ON "transactions" AS PERMISSIVE FOR ALL
	USING ("organization_id" = current_organization_id() OR is_super_admin())
	WITH CHECK ("organization_id" = current_organization_id() OR is_super_admin());
--> statement-breakpoint
ALTER TABLE "deals" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "deals_org_isolation" ON "deals" AS PERMISSIVE FOR ALL
	USING ("organization_id" = current_organization_id() OR is_super_admin())
	WITH CHECK ("organization_id" = current_organization_id() OR is_super_admin());
