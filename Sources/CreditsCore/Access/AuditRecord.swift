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
    /// What happened.
    public var action: AuditAction
    /// The sentence shown in the log (the seed's wording where it has one).
    public var message: AuditText
    public var subjectType: String?
    public var subjectID: String?
    public var at: Date

    public init(
        organization: OrganizationID?,
        actor: Actor,
        action: AuditAction,
        message: AuditText,
        subjectType: String? = nil,
        subjectID: String? = nil,
        at: Date
    ) {
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
    /// The record with its ledger figures filled in from the outcome of its operation.
    public func filled(with outcome: LedgerOutcome) -> AuditRecord {
        var copy = self
        copy.message = AuditText(
            message.rendered { figure in
                switch figure {
                case .amount: outcome.amount.decimalString
                case .counted(let noun): outcome.amount.counted(noun)
                case .balanceAfter: outcome.balanceAfter?.decimalString
                case .availableAfter: outcome.availableAfter?.decimalString
                }
            }
        )
        return copy
    }
}
