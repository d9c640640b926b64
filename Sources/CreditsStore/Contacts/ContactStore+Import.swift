import CreditsCore
import Foundation
import SQLKit

/// What an import wrote.
public struct ImportOutcome: Sendable, Equatable {
    /// Contacts added.
    public var added: Int
    /// The ids of the contacts added (the others' numbers were already there).
    public var addedIDs: Set<String>
    /// Rows left out because the organisation already has their number.
    public var skipped: Int
    /// Numbers added without the opt-in given, because their recipient opted out by text.
    public var consentRefused: [String]
}

extension ContactStore {
    /// Adds many contacts in the caller's unit of work: numbers the organisation already has are
    /// skipped; groups are created by name; consent, if given, is recorded for each new number with
    /// how it was given (`basis`) — except an opt-in for a number whose recipient opted out by
    /// text, which only they can undo.
    /// Returns the contacts added and how many were skipped.
    public static func importContacts(
        _ contacts: [Contact],
        consent: ConsentState?,
        basis: String? = nil,
        actor: String,
        at instant: Date,
        in work: UnitOfWork
    ) async throws -> ImportOutcome {
        guard let organization = contacts.first?.organizationID else {
            return ImportOutcome(added: 0, addedIDs: [], skipped: 0, consentRefused: [])
        }
        let sql = work.sql
        do {
            var existing = Set<String>()
            let phones = Array(Set(contacts.map(\.phone)))
            for chunk in phones.inListChunks {
                for row in try await sql.raw(
                    """
                    SELECT phone FROM contacts WHERE organization_id = \(bind: organization.rawValue) AND deleted_at IS NULL
                    AND \(chunk.sqlMembership("phone", for: sql))
                    """
                ).all() { existing.insert(try row.value("phone")) }
            }
            var seen = existing
            let fresh = contacts.filter { seen.insert($0.phone).inserted }
            let contactRows = BulkTable<Contact>(
                name: "contacts",
                columns: [
                    .text("id") { $0.id }, .text("organization_id") { $0.organizationID.rawValue },
                    .text("name") { $0.name },
                    .text("first_name") { $0.firstName }, .text("phone") { $0.phone }, .text("email") { $0.email },
                    .text("fields") { ContactStore.fieldsText($0.fields) },
                    .bigint("created_at") { _ in instant.milliseconds },
                    .bigint("updated_at") { _ in instant.milliseconds },
                ]
            )
            try await BulkRows.insert(sql, into: contactRows, rows: fresh)
            // Groups by name, in bulk: the missing ones created, then every id read back.
            var groupIDs: [String: String] = [:]
            let names = Array(Set(fresh.flatMap(\.groups))).sorted()
            let groupRows = BulkTable<String>(
                name: "contact_groups",
                columns: [
                    .text("id") { _ in Identifier.make("grp_") },
                    .text("organization_id") { _ in organization.rawValue },
                    .text("name") { $0 }, .bigint("created_at") { _ in instant.milliseconds },
                ]
            )
            try await BulkRows.insert(
                sql,
                into: groupRows,
                rows: names,
                suffix: "ON CONFLICT (organization_id, name) DO NOTHING"
            )
            for chunk in names.inListChunks {
                for row in try await sql.raw(
                    """
                    SELECT id, name FROM contact_groups WHERE organization_id = \(bind: organization.rawValue)
                    AND \(chunk.sqlMembership("name", for: sql))
                    """
                ).all() { groupIDs[try row.value("name")] = try row.value("id") }
            }
            let memberRows = BulkTable<(group: String, contact: String)>(
                name: "contact_group_members",
                columns: [
                    .text("group_id") { $0.group }, .text("contact_id") { $0.contact },
                ]
            )
            try await BulkRows.insert(
                sql,
                into: memberRows,
                rows: fresh.flatMap { contact in
                    Set(contact.groups).compactMap { groupIDs[$0] }.map { (group: $0, contact: contact.id) }
                }
            )
            var consentRefused: [String] = []
            if let consent, consent != .pending {
                var consenting = fresh
                if consent == .optedIn {
                    let locked = try await ContactStore.optedOutByRecipient(
                        organization: organization,
                        phones: fresh.map(\.phone),
                        on: sql
                    )
                    consenting = fresh.filter { !locked.contains($0.phone) }
                    consentRefused = fresh.map(\.phone).filter(locked.contains)
                }
                let consentRows = BulkTable<Contact>(
                    name: "consents",
                    columns: [
                        .text("organization_id") { $0.organizationID.rawValue }, .text("phone") { $0.phone },
                        .text("state") { _ in consent.rawValue },
                        .bigint("changed_at") { _ in instant.milliseconds },
                    ]
                )
                try await BulkRows.insert(
                    sql,
                    into: consentRows,
                    rows: consenting,
                    suffix:
                        "ON CONFLICT (organization_id, phone) DO UPDATE SET state = excluded.state, changed_at = excluded.changed_at"
                )
                let eventRows = BulkTable<Contact>(
                    name: "consent_events",
                    columns: [
                        .text("organization_id") { $0.organizationID.rawValue }, .text("phone") { $0.phone },
                        .text("state") { _ in consent.rawValue },
                        .text("source") { _ in ConsentSource.import.rawValue }, .text("actor") { _ in actor },
                        .text("basis") { _ in basis },
                        .bigint("created_at") { _ in instant.milliseconds },
                    ]
                )
                try await BulkRows.insert(sql, into: eventRows, rows: consenting)
                try await ContactStore.tellConsent(
                    organization: organization,
                    phones: consenting.map(\.phone),
                    state: consent,
                    source: .import,
                    at: instant,
                    on: sql
                )
            }
            return ImportOutcome(
                added: fresh.count,
                addedIDs: Set(fresh.map(\.id)),
                skipped: contacts.count - fresh.count,
                consentRefused: consentRefused
            )
        }
    }
}
