import CreditsCore
import Foundation
import SQLKit

extension ContactStore {
    /// Adds many contacts in one transaction: numbers the organisation already has are skipped;
    /// groups are created by name; consent, if given, is recorded for each new number.
    /// Returns the contacts added and how many were skipped.
    public func importContacts(_ contacts: [Contact], consent: ConsentState?, actor: String, at instant: Date, audit: AuditRecord) async throws
        -> (added: Int, skipped: Int) {
        guard let organization = contacts.first?.organizationID else { return (0, 0) }
        return try await database.transaction { sql in
            var existing = Set<String>()
            let phones = Array(Set(contacts.map(\.phone)))
            for chunk in phones.inListChunks {
                for row in try await sql.raw("""
                    SELECT phone FROM contacts WHERE organization_id = \(bind: organization.rawValue) AND deleted_at IS NULL
                    AND phone IN (\(chunk.inList(for: sql)))
                    """).all() { existing.insert(try row.value("phone")) }
            }
            var seen = existing
            let fresh = contacts.filter { seen.insert($0.phone).inserted }
            try await BulkRows.insert(sql, table: "contacts",
                columns: [.text("id"), .text("organization_id"), .text("name"), .text("first_name"), .text("phone"), .text("email"), .text("fields"),
                          .bigint("created_at"), .bigint("updated_at")],
                rows: fresh.map { contact in
                    [SQLCell(contact.id), SQLCell(organization.rawValue), SQLCell(contact.name), SQLCell(contact.firstName), SQLCell(contact.phone),
                     SQLCell(contact.email), SQLCell(ContactStore.fieldsText(contact.fields)), SQLCell(instant.milliseconds), SQLCell(instant.milliseconds)]
                })
            var groupIDs: [String: String] = [:]
            for name in Set(fresh.flatMap(\.groups)) {
                if let row = try await sql.raw("""
                    SELECT id FROM contact_groups WHERE organization_id = \(bind: organization.rawValue) AND name = \(bind: name)
                    """).first() {
                    groupIDs[name] = try row.value("id")
                } else {
                    let id = Identifier.make("grp_")
                    try await sql.raw("""
                        INSERT INTO contact_groups (id, organization_id, name, created_at)
                        VALUES (\(bind: id), \(bind: organization.rawValue), \(bind: name), \(bind: instant.milliseconds))
                        """).run()
                    groupIDs[name] = id
                }
            }
            try await BulkRows.insert(sql, table: "contact_group_members", columns: [.text("group_id"), .text("contact_id")],
                                      rows: fresh.flatMap { contact in Set(contact.groups).compactMap { groupIDs[$0] }.map { [SQLCell($0), SQLCell(contact.id)] } })
            if let consent, consent != .pending {
                try await BulkRows.insert(sql, table: "consents", columns: [.text("organization_id"), .text("phone"), .text("state"), .bigint("changed_at")],
                                          rows: fresh.map { [SQLCell(organization.rawValue), SQLCell($0.phone), SQLCell(consent.rawValue), SQLCell(instant.milliseconds)] },
                                          suffix: "ON CONFLICT (organization_id, phone) DO UPDATE SET state = excluded.state, changed_at = excluded.changed_at")
                try await BulkRows.insert(sql, table: "consent_events",
                                          columns: [.text("organization_id"), .text("phone"), .text("state"), .text("source"), .text("actor"), .bigint("created_at")],
                                          rows: fresh.map { [SQLCell(organization.rawValue), SQLCell($0.phone), SQLCell(consent.rawValue), SQLCell("import"),
                                                             SQLCell(actor), SQLCell(instant.milliseconds)] })
            }
            var record = audit
            record.message = audit.message.replacingOccurrences(of: "{{added}}", with: String(fresh.count))
                .replacingOccurrences(of: "{{skipped}}", with: String(contacts.count - fresh.count))
            try await AuditStore.insert([record], on: sql)
            return (fresh.count, contacts.count - fresh.count)
        }
    }
}
