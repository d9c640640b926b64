/// Version 32: every write to an organisation's ledger leaves a new random `ledger_version` on
/// its row, so a batch applied ahead of its transaction (`LedgerPipeline`) can tell, under the
/// organisation's lock, whether the ledger is still the one it was applied to. 0 until the first
/// write after this migration.
enum LedgerVersionSchema {
    static let migration = Migration(version: 32, name: "ledger version per organisation") { _ in
        ["ALTER TABLE organizations ADD COLUMN ledger_version BIGINT NOT NULL DEFAULT 0"]
    }
}
