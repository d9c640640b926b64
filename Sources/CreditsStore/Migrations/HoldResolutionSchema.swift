/// Version 33: resolving a hold changes only what a resolution is (its status, posted amount,
/// time and resolving transfer); its id, organisation, account, amount, reference, times and
/// reserving transfer stay as reserved, on both stores.
///
/// - SQLite refuses the change with a trigger. Its foreign keys checked only that a changed
///   organisation, account or transfer existed, so a hold could be moved to another organisation
///   or to another organisation's account. (As with the ledger's other references on SQLite, its
///   key does not check that a resolving transfer is of the hold's organisation; PostgreSQL's
///   check below does.)
/// - PostgreSQL refuses it in the row trigger every update of a hold already runs
///   (`textcredits_hold_resolves_once`); version 31 already keeps a hold's id and organisation
///   there. The statement-level check after an update then needs to
///   look up only the resolving transfer: it re-read the account and the reserving transfer of
///   every resolved hold (two key probes for each post or void, when one is all a resolution can
///   change).
enum HoldResolutionSchema {
    /// What a hold keeps from its reservation on, beside its id and organisation, which version
    /// 31's `ledger_holds_stay` keeps on PostgreSQL and this trigger on SQLite.
    static let kept = ["account_id", "amount", "reference", "created_at", "timeout_at", "reserve_transfer_id"]
    static let refusal = "a hold keeps what it was reserved with"

    static let migration = Migration(version: 33, name: "a hold's resolution changes only its resolution") { dialect in
        switch dialect {
        case .sqlite:
            let kept = ["id", "organization_id"] + kept
            return [
                """
                CREATE TRIGGER ledger_holds_keep BEFORE UPDATE OF \(kept.joined(separator: ", ")) ON ledger_holds
                WHEN \(kept.map { "NEW.\($0) IS NOT OLD.\($0)" }.joined(separator: " OR "))
                BEGIN SELECT RAISE(ABORT, '\(refusal)'); END
                """
            ]
        case .postgres:
            let changed = kept.map { "NEW.\($0) IS DISTINCT FROM OLD.\($0)" }.joined(separator: " OR ")
            return [
                """
                CREATE OR REPLACE FUNCTION textcredits_hold_resolves_once() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'holds are never deleted'; END IF;
                    IF OLD.status <> 'pending' THEN RAISE EXCEPTION 'a hold resolves exactly once'; END IF;
                    IF \(changed) THEN
                        RAISE EXCEPTION '\(refusal)' USING ERRCODE = 'foreign_key_violation';
                    END IF;
                    RETURN NEW;
                END $$
                """,
                LedgerReferenceSchema.referenceCheck(
                    "holds_resolved",
                    [
                        (
                            """
                            SELECT 1 FROM added n WHERE n.resolve_transfer_id IS NOT NULL
                            AND (SELECT t.organization_id FROM ledger_transfers t WHERE t.id = n.resolve_transfer_id) IS DISTINCT FROM n.organization_id
                            """,
                            "a hold names a transfer its organisation does not have"
                        )
                    ]
                ),
                "DROP TRIGGER ledger_holds_refer_resolved ON ledger_holds",
                LedgerReferenceSchema.referenceTrigger(
                    "ledger_holds",
                    function: "holds_resolved",
                    event: "UPDATE",
                    name: "ledger_holds_refer_resolved"
                ),
            ]
        }
    }
}
