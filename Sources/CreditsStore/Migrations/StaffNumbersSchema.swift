/// Version 25: staff limited to some of the organisation's numbers (a branch's agents to the
/// branch's number). Empty means every number, as before.
enum StaffNumbersSchema {
    static let migration = Migration(version: 25, name: "staff limited to some numbers") { _ in
        ["ALTER TABLE staff ADD COLUMN numbers TEXT NOT NULL DEFAULT ''"]
    }
}
