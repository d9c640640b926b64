/// Version 31 (PostgreSQL only): the ledger's per-hold tables check what they refer to once per
/// statement instead of once per row.
///
/// A foreign key costs PostgreSQL a trigger event, a query and a row lock per row and key: 14 of
/// them for each reserved hold, 80 % of the time of writing an entry (a benchmark batch of 5,000
/// entries: 153 ms with their five keys, 33 ms without). Here the schema proves the same another
/// way:
/// - what a row of `ledger_transfers`, `ledger_holds`, `ledger_hold_portions`, `ledger_entries`
///   or `ledger_lot_movements` refers to must exist when the row is written (or a hold resolved) —
///   checked by one statement-level trigger per table over all the rows the statement wrote (a
///   key probe per row, or per distinct value for organisations, accounts and lots), raising
///   `foreign_key_violation` as the keys did; an entry's and a hold's transfer, accounts and hold
///   must moreover be of the row's own organisation, which the keys never checked;
/// - and it stays: transfers, entries and hold portions are append-only and holds are never
///   deleted (version 1); organisations, accounts, lots and holds keep their ids and accounts,
///   lots and holds their organisation, and none of these tables can be truncated (the triggers
///   below), so nothing a row refers to can go away or change afterwards, which is what the keys'
///   row locks were for. A data-only restore into a migrated database must load with
///   `--disable-triggers`, as the keys no longer tell pg_dump the order of the tables.
/// Each check looks a value up by the referred table's key alone (a subquery per value, with
/// sequential scans, hash and merge joins off): the functions' plans are cached per connection,
/// and a plan made while the statistics still said the tables were empty (a new database, a new
/// organisation) scanned an organisation's whole ledger for every row, which slowed the first
/// benchmark run 25-fold; a key probe per value is right at every size.
/// Accounts, lots and portions keep their keys (a handful of rows per organisation).
/// SQLite keeps its foreign keys: they cost it far less (no trigger queue, no row locks).
enum LedgerReferenceSchema {
    static let migration = Migration(version: 31, name: "ledger references checked per statement") { dialect in
        guard dialect == .postgres else { return [] }
        var statements = [
            """
            CREATE OR REPLACE FUNCTION textcredits_ledger_rows_stay() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
                    RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation';
                END IF;
                RAISE EXCEPTION 'a % row keeps its id and its organisation', TG_TABLE_NAME
                    USING ERRCODE = 'foreign_key_violation';
            END $$
            """
        ]
        for (table, events) in [
            ("ledger_accounts", "DELETE OR UPDATE OF id, organization_id"),
            ("ledger_lots", "DELETE OR UPDATE OF id, organization_id"), ("organizations", "DELETE OR UPDATE OF id"),
            ("ledger_holds", "UPDATE OF id, organization_id"),
        ] {
            statements.append(
                "CREATE TRIGGER \(table)_stay BEFORE \(events) ON \(table) FOR EACH ROW EXECUTE FUNCTION textcredits_ledger_rows_stay()"
            )
        }
        for table in [
            "organizations", "ledger_accounts", "ledger_lots", "ledger_transfers", "ledger_holds",
            "ledger_hold_portions", "ledger_entries", "ledger_lot_movements",
        ] {
            statements.append(
                """
                CREATE TRIGGER \(table)_not_truncated BEFORE TRUNCATE ON \(table)
                FOR EACH STATEMENT EXECUTE FUNCTION textcredits_ledger_rows_stay()
                """
            )
        }
        statements += [
            referenceCheck(
                "transfers",
                [
                    (
                        """
                        SELECT 1 FROM (SELECT DISTINCT organization_id FROM added) n
                        WHERE (SELECT o.id FROM organizations o WHERE o.id = n.organization_id) IS NULL
                        """,
                        "a ledger transfer names an organisation that does not exist"
                    )
                ]
            ),
            referenceCheck(
                "holds",
                [
                    (
                        """
                        SELECT 1 FROM (SELECT DISTINCT organization_id, account_id FROM added) n
                        WHERE (SELECT a.organization_id FROM ledger_accounts a WHERE a.id = n.account_id) IS DISTINCT FROM n.organization_id
                        """,
                        "a hold names an account its organisation does not have"
                    ),
                    (
                        """
                        SELECT 1 FROM added n WHERE (SELECT t.organization_id FROM ledger_transfers t WHERE t.id = n.reserve_transfer_id) IS DISTINCT FROM n.organization_id
                        OR (n.resolve_transfer_id IS NOT NULL AND (SELECT t.organization_id FROM ledger_transfers t WHERE t.id = n.resolve_transfer_id) IS DISTINCT FROM n.organization_id)
                        """,
                        "a hold names a transfer its organisation does not have"
                    ),
                ]
            ),
            referenceCheck(
                "hold_portions",
                [
                    (
                        """
                        SELECT 1 FROM added n WHERE (SELECT h.id FROM ledger_holds h WHERE h.id = n.hold_id) IS NULL
                        """,
                        "a hold portion names a hold that does not exist"
                    ),
                    (
                        """
                        SELECT 1 FROM (SELECT DISTINCT lot_id FROM added) n
                        WHERE (SELECT l.id FROM ledger_lots l WHERE l.id = n.lot_id) IS NULL
                        """,
                        "a hold portion names a lot that does not exist"
                    ),
                ]
            ),
            referenceCheck("entries", entryChecks),
            referenceCheck(
                "movements",
                [
                    (
                        """
                        SELECT 1 FROM added n WHERE (SELECT e.seq FROM ledger_entries e
                        WHERE e.transfer_id = n.transfer_id AND e.seq = n.entry_seq) IS NULL
                        """,
                        "a lot movement names an entry that does not exist"
                    ),
                    (
                        """
                        SELECT 1 FROM (SELECT DISTINCT account_id FROM added) n
                        WHERE (SELECT a.id FROM ledger_accounts a WHERE a.id = n.account_id) IS NULL
                        """,
                        "a lot movement names an account that does not exist"
                    ),
                    (
                        """
                        SELECT 1 FROM (SELECT DISTINCT lot_id FROM added) n
                        WHERE (SELECT l.id FROM ledger_lots l WHERE l.id = n.lot_id) IS NULL
                        """,
                        "a lot movement names a lot that does not exist"
                    ),
                ]
            ),
            """
            ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_organization_id_fkey,
                DROP CONSTRAINT ledger_entries_transfer_id_fkey, DROP CONSTRAINT ledger_entries_debit_account_id_fkey,
                DROP CONSTRAINT ledger_entries_credit_account_id_fkey, DROP CONSTRAINT ledger_entries_hold_id_fkey
            """,
            """
            ALTER TABLE ledger_lot_movements DROP CONSTRAINT ledger_lot_movements_account_id_fkey,
                DROP CONSTRAINT ledger_lot_movements_lot_id_fkey, DROP CONSTRAINT ledger_lot_movements_transfer_id_entry_seq_fkey
            """,
            """
            ALTER TABLE ledger_hold_portions DROP CONSTRAINT ledger_hold_portions_hold_id_fkey,
                DROP CONSTRAINT ledger_hold_portions_lot_id_fkey
            """,
            "ALTER TABLE ledger_transfers DROP CONSTRAINT ledger_transfers_organization_id_fkey",
            """
            ALTER TABLE ledger_holds DROP CONSTRAINT ledger_holds_organization_id_fkey,
                DROP CONSTRAINT ledger_holds_account_id_fkey, DROP CONSTRAINT ledger_holds_reserve_transfer_id_fkey,
                DROP CONSTRAINT ledger_holds_resolve_transfer_id_fkey
            """,
        ]
        for (table, function, event) in [
            ("ledger_transfers", "transfers", "INSERT"), ("ledger_holds", "holds", "INSERT"),
            ("ledger_entries", "entries", "INSERT"), ("ledger_lot_movements", "movements", "INSERT"),
            ("ledger_hold_portions", "hold_portions", "INSERT"),
        ] {
            statements.append(referenceTrigger(table, function: function, event: event, name: "\(table)_refer"))
        }
        statements.append(
            referenceTrigger("ledger_holds", function: "holds", event: "UPDATE", name: "ledger_holds_refer_resolved")
        )
        return statements
    }

    /// What an entry refers to, checked per statement: version 31's checks as it wrote them (version
    /// 34 adds its lot after them). Frozen: a migration that ran keeps its meaning, so a change to
    /// these checks goes in a new migration with a list of its own.
    static let entryChecks: [(condition: String, message: String)] = [
        (
            """
            SELECT 1 FROM added n WHERE (SELECT t.organization_id FROM ledger_transfers t WHERE t.id = n.transfer_id) IS DISTINCT FROM n.organization_id
            """,
            "a ledger entry names a transfer its organisation does not have"
        ),
        (
            """
            SELECT 1 FROM (SELECT organization_id, debit_account_id AS account_id FROM added
            UNION SELECT organization_id, credit_account_id FROM added) n
            WHERE (SELECT a.organization_id FROM ledger_accounts a WHERE a.id = n.account_id) IS DISTINCT FROM n.organization_id
            """,
            "a ledger entry names an account its organisation does not have"
        ),
        (
            """
            SELECT 1 FROM added n WHERE n.hold_id IS NOT NULL AND (SELECT h.organization_id FROM ledger_holds h WHERE h.id = n.hold_id) IS DISTINCT FROM n.organization_id
            """,
            "a ledger entry names a hold its organisation does not have"
        ),
    ]

    /// A statement trigger's function that raises `foreign_key_violation` with the message of the
    /// first condition that holds over the rows the statement wrote (`added`). Every check runs
    /// with sequential scans, hash and merge joins off (see above).
    static func referenceCheck(_ name: String, _ checks: [(condition: String, message: String)]) -> String {
        var body = ""
        for check in checks {
            body += """
                    IF EXISTS (\(check.condition.replacingOccurrences(of: "\n", with: "\n        "))) THEN
                        RAISE EXCEPTION '\(check.message)' USING ERRCODE = 'foreign_key_violation';
                    END IF;

                """
        }
        return """
            CREATE OR REPLACE FUNCTION textcredits_ledger_\(name)_refer() RETURNS trigger LANGUAGE plpgsql
            SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
            BEGIN
            \(body)    RETURN NULL;
            END $$
            """
    }

    /// The statement trigger that runs a table's reference check after an INSERT or UPDATE.
    static func referenceTrigger(_ table: String, function: String, event: String, name: String) -> String {
        """
        CREATE TRIGGER \(name) AFTER \(event) ON \(table) REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION textcredits_ledger_\(function)_refer()
        """
    }
}
