/// Version 23: reprocessing from toll-free. A text re-sent from the organisation's toll-free
/// number after a carrier filtered it names the attempt it re-sends, so both attempts stay on
/// record and each is charged (or not) on its own hold.
enum ReprocessingSchema {
    static let migration = Migration(version: 23, name: "texts re-sent from toll-free after carrier filtering") { _ in
        [
            "ALTER TABLE messages ADD COLUMN reprocess_of TEXT NULL REFERENCES messages(id)",
            "CREATE UNIQUE INDEX messages_reprocess_of ON messages (reprocess_of) WHERE reprocess_of IS NOT NULL",
        ]
    }
}
