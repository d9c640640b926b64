import Foundation

/// Who changed something: a staff member, an API key, the system itself, an operator at the
/// command line, or a contact (by text).
public enum ActorKind: String, Sendable, Codable, CaseIterable {
    case staff
    case apiKey = "api_key"
    case system
    case `operator`
    case contact
}

/// The acting party of a request, carried into every audit entry and ledger transfer.
public struct Actor: Sendable, Equatable, Codable {
    public var kind: ActorKind
    /// Staff or key id; nil for the system.
    public var id: String?
    /// A name people recognise ("Ana Ortiz", "API key Zapier", "System").
    public var name: String

    public init(kind: ActorKind, id: String?, name: String) {
        self.kind = kind
        self.id = id
        self.name = name
    }

    /// The server's own workers.
    public static let system = Actor(kind: .system, id: nil, name: "System")

    /// How transfers name the actor: "staff:ID", "api_key:ID", "system".
    public var reference: String { id.map { "\(kind.rawValue):\($0)" } ?? kind.rawValue }
}

/// One audit-log entry to write: every state change has one.
public struct AuditRecord: Sendable, Equatable {
    public var organization: OrganizationID?
    public var actor: Actor
    /// Stable action code ("staff.created", "credits.transferred", "sms.delivered" …).
    public var action: String
    /// The sentence shown in the log (the seed's wording where it has one).
    public var message: String
    public var subjectType: String?
    public var subjectID: String?
    public var at: Date

    public init(organization: OrganizationID?, actor: Actor, action: String, message: String,
                subjectType: String? = nil, subjectID: String? = nil, at: Date) {
        self.organization = organization
        self.actor = actor
        self.action = action
        self.message = message
        self.subjectType = subjectType
        self.subjectID = subjectID
        self.at = at
    }
}

extension AuditRecord {
    /// The record with {{amount}}, {{balance_after}} and {{available_after}} filled from a ledger outcome.
    public func filled(with outcome: LedgerOutcome) -> AuditRecord {
        var copy = self
        let values = ["amount": outcome.amount.decimalString,
                      "balance_after": outcome.balanceAfter?.decimalString ?? "",
                      "available_after": outcome.availableAfter?.decimalString ?? ""]
        copy.message = (try? MergeFields.render(message, values: values)) ?? message
        return copy
    }
}
