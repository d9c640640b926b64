/// Version 22: several numbers per organisation. A number request says whether it is for a local
/// or a toll-free number; a released number stays on record (its texts name it) but sends nothing.
enum NumbersSchema {
    static let migration = Migration(version: 22, name: "local and toll-free numbers, released numbers") { _ in
        [
            "ALTER TABLE number_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'local' CHECK (kind IN ('local', 'toll_free'))",
            "ALTER TABLE phone_numbers ADD COLUMN released_at BIGINT NULL",
        ]
    }
}
