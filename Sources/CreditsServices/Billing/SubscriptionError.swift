import CreditsCore

/// Why a plan, a subscription change or rollover protection was refused.
public enum SubscriptionError: DomainError, Equatable {
    /// No plan with that id on offer.
    case unknownPlan(String)
    /// The plan has no price for that cycle in the organisation's country.
    case cycleNotOffered(plan: String, cycle: BillingCycle)
    /// `cycle` is not monthly or yearly.
    case unknownCycle(String)
    /// There is no subscription to change, cancel or add protection to.
    case noSubscription
    /// Rollover protection comes with the plan already.
    case protectionIncluded(plan: String)
    /// The plan offers no rollover-protection add-on in the organisation's country.
    case protectionNotOffered(plan: String)
    /// A catalogue entry breaks a rule (operator input).
    case catalogueInvalid(String)
    /// The organisation was marked as spam: nothing can be bought.
    case markedSpam

    public var kind: RefusalKind {
        switch self {
        case .unknownPlan: .notFound
        case .cycleNotOffered, .unknownCycle, .catalogueInvalid: .invalid
        case .noSubscription, .protectionIncluded, .protectionNotOffered, .markedSpam: .conflict
        }
    }

    public var code: String {
        switch self {
        case .unknownPlan: "plan_not_found"
        case .cycleNotOffered: "cycle_not_offered"
        case .unknownCycle: "field_invalid"
        case .noSubscription: "no_subscription"
        case .protectionIncluded: "rollover_protection_included"
        case .protectionNotOffered: "rollover_protection_not_offered"
        case .catalogueInvalid: "field_invalid"
        case .markedSpam: "organization_marked_spam"
        }
    }

    public var message: String {
        switch self {
        case .unknownPlan(let id): "There is no plan “\(id)” on offer; GET /v1/plans lists them."
        case .cycleNotOffered(let plan, let cycle): "The \(plan) plan is not offered \(cycle.rawValue) in your country."
        case .unknownCycle(let cycle): "The cycle is monthly or yearly, not “\(cycle)”."
        case .noSubscription: "The organisation has no plan subscription; subscribe to a plan first."
        case .protectionIncluded(let plan): "The \(plan) plan includes rollover protection already."
        case .protectionNotOffered(let plan):
            "Rollover protection is not offered with the \(plan) plan in your country."
        case .catalogueInvalid(let reason): reason
        case .markedSpam: "This account was closed as spam; contact support."
        }
    }

    public var field: String? {
        switch self {
        case .unknownPlan: "plan"
        case .cycleNotOffered, .unknownCycle: "cycle"
        case .noSubscription, .protectionIncluded, .protectionNotOffered, .catalogueInvalid, .markedSpam: nil
        }
    }
}
