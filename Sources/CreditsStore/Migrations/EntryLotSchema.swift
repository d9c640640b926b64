/// Version 34: an entry that moves one lot names it (`ledger_entries.lot_id`), instead of a row of
/// `ledger_lot_movements` beside it.
///
/// Most entries move one lot: a message's charge from the lot its hold reserved, a purchase into
/// its new lot. Each of them cost a second row (an insert and its reference check or foreign
/// keys) for what the entry already says but the lot. Now:
/// - `lot_id`, when set, is the lot the entry moves its whole amount out of (its debit side) or
///   into (its credit side): the side whose account holds credits (a pool or a wallet). Exactly
///   one side may hold credits then (the check below); an entry between two such accounts, or one
///   that moves several lots or part of its amount, keeps its rows in `ledger_lot_movements`, as
///   every entry written before this version does. `LedgerChangesWriter.namedLot` decides.
/// - What an entry names is checked as its other references are: SQLite's foreign key says the
///   lot exists; PostgreSQL's statement-level check (version 31's, with one more condition) says
///   it is a lot of the entry's own organisation.
/// - `ledger verify` reads an entry's named lot as the movement it stands for
///   (`LedgerVerifier.movements`), so the lots' balances and every entry's movements are checked as
///   before, and an entry that both names a lot and has rows of its own fails the check.
///
/// On PostgreSQL the check is added `NOT VALID`: every row written before has no lot, so there is
/// nothing to validate, and the migration does not read a whole ledger under its table lock.
/// SQLite (3.37 and later) tests a column's check against every existing row as it adds the
/// column: one read of `ledger_entries` inside the migration's transaction, once.
enum EntryLotSchema {
    /// The kinds of account that hold credits (`AccountKind.holdsCredits`), as a SQL list, as this
    /// version wrote them into its check: a kind added later needs a migration of its own, and
    /// the verifier reads named lots with this same list.
    static let holdingKinds = "'pool', 'wallet'"
    /// SQL: true when the entry's debit side is the one that holds credits.
    static let debitHoldsCredits = "debit_kind IN (\(holdingKinds))"
    /// At most one side of an entry that names a lot holds credits.
    static let oneSide = "lot_id IS NULL OR (\(debitHoldsCredits)) <> (credit_kind IN (\(holdingKinds)))"

    static let migration = Migration(version: 34, name: "an entry that moves one lot names it") { dialect in
        switch dialect {
        case .sqlite:
            return [
                "ALTER TABLE ledger_entries ADD COLUMN lot_id TEXT NULL REFERENCES ledger_lots(id) CHECK (\(oneSide))"
            ]
        case .postgres:
            return [
                """
                ALTER TABLE ledger_entries ADD COLUMN lot_id TEXT NULL,
                    ADD CONSTRAINT ledger_entries_lot_side CHECK (\(oneSide)) NOT VALID
                """,
                LedgerReferenceSchema.referenceCheck(
                    "entries",
                    LedgerReferenceSchema.entryChecks + [
                        (
                            """
                            SELECT 1 FROM (SELECT DISTINCT organization_id, lot_id FROM added WHERE lot_id IS NOT NULL) n
                            WHERE (SELECT l.organization_id FROM ledger_lots l WHERE l.id = n.lot_id) IS DISTINCT FROM n.organization_id
                            """,
                            "a ledger entry names a lot its organisation does not have"
                        )
                    ]
                ),
            ]
        }
    }
}
