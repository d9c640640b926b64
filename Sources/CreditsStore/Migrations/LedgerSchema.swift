/// Version 1: organisations and the double-entry credit ledger (DESIGN §2).
///
/// The constraints are the ledger's last line of defence: even a bug cannot store an entry of
/// zero, a wallet below its overdraft line, a lot portion held beyond its balance, a hold that
/// resolves twice, or a charge to `usage` without the message it pays for.
enum LedgerSchema {
    static let migration = Migration(version: 1, name: "organisations and credit ledger") { dialect in
        var statements: [String] = []
        if dialect == .postgres {
            statements.append(
                """
                CREATE OR REPLACE FUNCTION textcredits_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$
                """
            )
        }
        statements += [
            """
            CREATE TABLE organizations (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
                country TEXT NOT NULL CHECK (country IN ('US', 'CA', 'AU', 'NZ', 'GB')),
                time_zone TEXT NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
                created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE ledger_accounts (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                kind TEXT NOT NULL CHECK (kind IN ('pool', 'wallet', 'purchases', 'plan_grants', 'adjustments', 'usage', 'expired')),
                staff_id TEXT NULL,
                balance BIGINT NOT NULL DEFAULT 0,
                pending BIGINT NOT NULL DEFAULT 0 CHECK (pending >= 0),
                overdraft_limit BIGINT NOT NULL DEFAULT 0 CHECK (overdraft_limit >= 0),
                created_at BIGINT NOT NULL,
                CHECK ((kind = 'wallet' AND staff_id IS NOT NULL) OR (kind <> 'wallet' AND staff_id IS NULL)),
                CHECK (kind IN ('pool', 'wallet') OR (pending = 0 AND overdraft_limit = 0)),
                CHECK (kind NOT IN ('pool', 'wallet') OR balance - pending >= -overdraft_limit),
                CHECK (kind NOT IN ('pool', 'wallet') OR balance >= -overdraft_limit),
                CHECK (kind NOT IN ('purchases', 'plan_grants') OR balance <= 0),
                CHECK (kind NOT IN ('usage', 'expired') OR balance >= 0))
            """,
            "CREATE UNIQUE INDEX ledger_accounts_one_per_kind ON ledger_accounts (organization_id, kind) WHERE kind <> 'wallet'",
            "CREATE UNIQUE INDEX ledger_accounts_one_wallet ON ledger_accounts (organization_id, staff_id) WHERE kind = 'wallet'",
            """
            CREATE TABLE ledger_lots (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                kind TEXT NOT NULL CHECK (kind IN ('plan', 'purchased', 'adjustment', 'overdraft')),
                amount BIGINT NOT NULL,
                expires_at BIGINT NULL,
                created_at BIGINT NOT NULL,
                CHECK ((kind = 'overdraft' AND amount = 0 AND expires_at IS NULL) OR (kind <> 'overdraft' AND amount > 0)),
                CHECK (kind <> 'purchased' OR expires_at IS NULL))
            """,
            "CREATE INDEX ledger_lots_expiring ON ledger_lots (expires_at) WHERE expires_at IS NOT NULL",
            """
            CREATE TABLE ledger_portions (
                account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                lot_id TEXT NOT NULL REFERENCES ledger_lots(id),
                overdraft INTEGER NOT NULL CHECK (overdraft IN (0, 1)),
                balance BIGINT NOT NULL,
                held BIGINT NOT NULL CHECK (held >= 0),
                PRIMARY KEY (account_id, lot_id),
                CHECK ((overdraft = 0 AND balance >= held) OR (overdraft = 1 AND balance <= 0)))
            """,
            "CREATE INDEX ledger_portions_lot ON ledger_portions (lot_id)",
            """
            CREATE TABLE ledger_transfers (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                idempotency_key TEXT NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
                operation TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                amount BIGINT NOT NULL CHECK (amount >= 0),
                released BIGINT NOT NULL CHECK (released >= 0),
                hold_id TEXT NULL,
                hold_status TEXT NULL,
                balance_after BIGINT NULL,
                available_after BIGINT NULL,
                actor TEXT NOT NULL,
                memo TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                UNIQUE (organization_id, idempotency_key))
            """,
            """
            CREATE TABLE ledger_holds (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                amount BIGINT NOT NULL CHECK (amount > 0),
                status TEXT NOT NULL CHECK (status IN ('pending', 'posted', 'voided', 'timed_out')),
                posted_amount BIGINT NOT NULL CHECK (posted_amount >= 0 AND posted_amount <= amount),
                reference TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                timeout_at BIGINT NOT NULL,
                resolved_at BIGINT NULL,
                reserve_transfer_id TEXT NOT NULL REFERENCES ledger_transfers(id),
                resolve_transfer_id TEXT NULL REFERENCES ledger_transfers(id),
                CHECK ((status = 'pending' AND resolved_at IS NULL AND resolve_transfer_id IS NULL AND posted_amount = 0)
                    OR (status <> 'pending' AND resolved_at IS NOT NULL AND resolve_transfer_id IS NOT NULL)),
                CHECK (status <> 'voided' OR posted_amount = 0))
            """,
            "CREATE INDEX ledger_holds_timeout ON ledger_holds (timeout_at) WHERE status = 'pending'",
            """
            CREATE TABLE ledger_hold_portions (
                hold_id TEXT NOT NULL REFERENCES ledger_holds(id),
                seq INTEGER NOT NULL CHECK (seq >= 0),
                lot_id TEXT NOT NULL REFERENCES ledger_lots(id),
                amount BIGINT NOT NULL CHECK (amount > 0),
                PRIMARY KEY (hold_id, seq))
            """,
            """
            CREATE TABLE ledger_entries (
                id \(DDL.serialKey(dialect)),
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                transfer_id TEXT NOT NULL REFERENCES ledger_transfers(id),
                seq INTEGER NOT NULL CHECK (seq >= 0),
                debit_account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                debit_kind TEXT NOT NULL,
                credit_account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                credit_kind TEXT NOT NULL,
                amount BIGINT NOT NULL CHECK (amount > 0),
                debit_balance_after BIGINT NOT NULL,
                credit_balance_after BIGINT NOT NULL,
                reference TEXT NULL,
                hold_id TEXT NULL REFERENCES ledger_holds(id),
                created_at BIGINT NOT NULL,
                UNIQUE (transfer_id, seq),
                CHECK (debit_account_id <> credit_account_id),
                CHECK (credit_kind <> 'usage' OR reference IS NOT NULL))
            """,
            "CREATE INDEX ledger_entries_debit ON ledger_entries (debit_account_id, created_at)",
            "CREATE INDEX ledger_entries_credit ON ledger_entries (credit_account_id, created_at)",
            """
            CREATE TABLE ledger_lot_movements (
                transfer_id TEXT NOT NULL,
                entry_seq INTEGER NOT NULL,
                account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                lot_id TEXT NOT NULL REFERENCES ledger_lots(id),
                delta BIGINT NOT NULL CHECK (delta <> 0),
                FOREIGN KEY (transfer_id, entry_seq) REFERENCES ledger_entries (transfer_id, seq))
            """,
        ]
        for table in ["ledger_entries", "ledger_lot_movements", "ledger_transfers", "ledger_hold_portions"] {
            statements += DDL.appendOnly(table, dialect)
        }
        statements += resolvedHoldsAreFinal(dialect)
        return statements
    }

    /// A hold that resolved cannot change again, and no hold is ever deleted.
    static func resolvedHoldsAreFinal(_ dialect: StoreDialect) -> [String] {
        switch dialect {
        case .sqlite:
            return [
                """
                CREATE TRIGGER ledger_holds_resolve_once BEFORE UPDATE ON ledger_holds WHEN OLD.status <> 'pending'
                BEGIN SELECT RAISE(ABORT, 'a hold resolves exactly once'); END
                """,
                "CREATE TRIGGER ledger_holds_no_delete BEFORE DELETE ON ledger_holds BEGIN SELECT RAISE(ABORT, 'holds are never deleted'); END",
            ]
        case .postgres:
            return [
                """
                CREATE OR REPLACE FUNCTION textcredits_hold_resolves_once() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'holds are never deleted'; END IF;
                    IF OLD.status <> 'pending' THEN RAISE EXCEPTION 'a hold resolves exactly once'; END IF;
                    RETURN NEW;
                END $$
                """,
                """
                CREATE TRIGGER ledger_holds_resolve_once BEFORE UPDATE OR DELETE ON ledger_holds
                FOR EACH ROW EXECUTE FUNCTION textcredits_hold_resolves_once()
                """,
            ]
        }
    }
}
