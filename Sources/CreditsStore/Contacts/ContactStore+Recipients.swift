import CreditsCore
import Foundation
import SQLKit

/// A resolved recipient: a number, its consent, and the contact it belongs to (if any).
public struct RecipientRow: Sendable, Equatable {
    public var phone: String
    public var consent: ConsentState
    public var contact: Contact?
}

extension ContactStore {
    /// Members of groups (by name) and contacts (by id), with consent; the names or ids that
    /// were not found are returned too.
    public func recipients(_ organization: OrganizationID, groups: [String], contactIDs: [String]) async throws
        -> (found: [RecipientRow], missingGroups: [String], missingContacts: [String])
    {
        try await database.read { sql in
            var rows: [RecipientRow] = []
            var missingGroups: [String] = []
            for group in groups {
                let exists = try await sql.raw(
                    """
                    SELECT id FROM contact_groups WHERE organization_id = \(bind: organization.rawValue) AND name = \(bind: group)
                    """
                ).first()
                guard let exists else {
                    missingGroups.append(group)
                    continue
                }
                let groupID: String = try exists.value("id")
                let contacts = try await ContactStore.withConsent(
                    try await sql.raw(
                        """
                        \(unsafeRaw: ContactStore.selectContacts)
                        JOIN contact_group_members m ON m.contact_id = c.id
                        WHERE m.group_id = \(bind: groupID) AND c.organization_id = \(bind: organization.rawValue) AND c.deleted_at IS NULL
                        ORDER BY c.id
                        """
                    ).all()
                )
                rows += contacts
            }
            var missingContacts: [String] = []
            for chunk in contactIDs.inListChunks {
                let found = try await ContactStore.withConsent(
                    try await sql.raw(
                        """
                        \(unsafeRaw: ContactStore.selectContacts)
                        WHERE c.organization_id = \(bind: organization.rawValue) AND c.deleted_at IS NULL AND \(chunk.sqlMembership("c.id", for: sql))
                        """
                    ).all()
                )
                let ids = Set(found.compactMap { $0.contact?.id })
                missingContacts += chunk.filter { !ids.contains($0) }
                rows += found
            }
            return (rows, missingGroups, missingContacts)
        }
    }

    /// Consent and contacts for raw phone numbers (already E.164).
    public func recipients(_ organization: OrganizationID, phones: [String]) async throws -> [RecipientRow] {
        try await database.read { sql in
            var consent: [String: ConsentState] = [:]
            var contacts: [String: Contact] = [:]
            for chunk in phones.inListChunks {
                for row in try await sql.raw(
                    """
                    SELECT phone, state FROM consents WHERE organization_id = \(bind: organization.rawValue) AND \(chunk.sqlMembership("phone", for: sql))
                    """
                ).all() {
                    consent[try row.value("phone")] = ConsentState(rawValue: try row.value("state"))
                }
                for row in try await ContactStore.withConsent(
                    try await sql.raw(
                        """
                        \(unsafeRaw: ContactStore.selectContacts)
                        WHERE c.organization_id = \(bind: organization.rawValue) AND c.deleted_at IS NULL AND \(chunk.sqlMembership("c.phone", for: sql))
                        """
                    ).all()
                ) {
                    if let contact = row.contact { contacts[contact.phone] = contact }
                }
            }
            return phones.map { RecipientRow(phone: $0, consent: consent[$0] ?? .pending, contact: contacts[$0]) }
        }
    }

    /// Contact rows as recipients; merge fields come from the contact (groups are not needed).
    static func withConsent(_ rows: [any SQLRow]) async throws -> [RecipientRow] {
        try rows.map { row in
            let contact = try ContactStore.contact(row)
            return RecipientRow(phone: contact.phone, consent: contact.consent, contact: contact)
        }
    }
}
