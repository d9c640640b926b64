/// Version 4: billing profiles (payment method on file, tax details), purchases with their
/// numbered invoices, and the Sandbox gateway's record of charges.
enum BillingSchema {
    static let migration = Migration(version: 4, name: "billing profiles, purchases and invoices") { _ in
        [
            """
            CREATE TABLE billing_profiles (
                organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
                gateway TEXT NOT NULL,
                customer_id TEXT NULL,
                legal_name TEXT NULL,
                tax_id TEXT NULL,
                address TEXT NULL,
                billing_email TEXT NULL,
                method_token TEXT NULL,
                method_kind TEXT NULL CHECK (method_kind IN ('card', 'bank_account')),
                method_brand TEXT NULL,
                method_last4 TEXT NULL,
                method_exp_month INTEGER NULL,
                method_exp_year INTEGER NULL,
                updated_at BIGINT NOT NULL,
                CHECK ((method_token IS NULL) = (method_kind IS NULL)))
            """,
            """
            CREATE TABLE purchases (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                idempotency_key TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                kind TEXT NOT NULL CHECK (kind IN ('manual', 'auto_renew')),
                actor TEXT NOT NULL,
                actor_name TEXT NOT NULL,
                credits BIGINT NOT NULL CHECK (credits > 0),
                country TEXT NOT NULL,
                currency TEXT NOT NULL,
                unit_price BIGINT NOT NULL CHECK (unit_price > 0),
                subtotal_cents BIGINT NOT NULL CHECK (subtotal_cents > 0),
                tax_name TEXT NULL,
                tax_rate BIGINT NOT NULL CHECK (tax_rate >= 0),
                tax_cents BIGINT NOT NULL CHECK (tax_cents >= 0),
                total_cents BIGINT NOT NULL CHECK (total_cents = subtotal_cents + tax_cents),
                method_token TEXT NOT NULL,
                method_description TEXT NOT NULL,
                customer_id TEXT NULL,
                parties TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
                charge_id TEXT NULL,
                failure_code TEXT NULL,
                failure_message TEXT NULL,
                transfer_id TEXT NULL REFERENCES ledger_transfers(id),
                invoice_number BIGINT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                completed_at BIGINT NULL,
                UNIQUE (organization_id, idempotency_key),
                CHECK ((status = 'succeeded') = (charge_id IS NOT NULL AND transfer_id IS NOT NULL AND invoice_number IS NOT NULL)),
                CHECK ((status = 'failed') = (failure_code IS NOT NULL)))
            """,
            "CREATE INDEX purchases_organization ON purchases (organization_id, created_at)",
            "CREATE INDEX purchases_pending ON purchases (created_at) WHERE status = 'pending'",
            """
            CREATE TABLE invoice_numbers (
                singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                last_number BIGINT NOT NULL CHECK (last_number >= 0))
            """,
            "INSERT INTO invoice_numbers (singleton, last_number) VALUES (1, 0)",
            """
            CREATE TABLE sandbox_charges (
                idempotency_key TEXT PRIMARY KEY,
                amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
                payment_method TEXT NOT NULL,
                charge_id TEXT NULL,
                error_kind TEXT NULL,
                error_code TEXT NULL,
                error_message TEXT NULL,
                created_at BIGINT NOT NULL,
                CHECK ((charge_id IS NULL) <> (error_kind IS NULL)))
            """,
        ]
    }
}
