import CreditsCore
import CreditsStore
import Foundation

/// `PUT /v1/billing/subscription`.
public struct SubscriptionInput: APIInput, Sendable {
    public var plan: String
    public var cycle: String?

    public static let fields = JSONFields(["plan", "cycle"])

    public init(plan: String, cycle: String? = nil) {
        self.plan = plan
        self.cycle = cycle
    }
}

/// One plan of the catalogue as an organisation sees it: its prices in the organisation's
/// country, tax shown apart.
public struct CataloguePlanView: Encodable, Sendable {
    public struct CycleView: Encodable, Sendable {
        public var cycle: String
        /// Plan credits granted at the start of each cycle (expiring at its end).
        public var credits: Int64
        public var price: MoneyView
        /// With the country's tax.
        public var total: MoneyView
    }

    public var id: String
    public var name: String
    public var creditsPerMonth: Int64
    public var includesRolloverProtection: Bool
    public var cycles: [CycleView]
    /// The add-on's price per month, when offered with this plan.
    public var rolloverProtectionMonthly: MoneyView?
    public var tax: String?

    enum CodingKeys: String, CodingKey {
        case id, name, cycles, tax
        case creditsPerMonth = "credits_per_month"
        case includesRolloverProtection = "includes_rollover_protection"
        case rolloverProtectionMonthly = "rollover_protection_monthly"
    }
}

/// `GET /v1/billing/subscription`.
public struct SubscriptionView: Encodable, Sendable {
    public struct PeriodView: Encodable, Sendable {
        public var start: Date
        public var end: Date
    }

    public struct ChangeView: Encodable, Sendable {
        public var plan: String
        public var planName: String
        public var cycle: String
        public var at: Date
        enum CodingKeys: String, CodingKey {
            case plan, cycle, at
            case planName = "plan_name"
        }
    }

    public var plan: String
    public var planName: String
    public var cycle: String
    /// active, past_due (the last renewal was declined) or cancelled.
    public var status: String
    /// Plan credits each cycle.
    public var credits: Int64
    public var price: MoneyView?
    public var currentPeriod: PeriodView?
    /// When the next cycle starts and is charged (nil once cancelled).
    public var renewsAt: Date?
    /// When the subscription ends (a cancellation waiting for the cycle end).
    public var endsAt: Date?
    /// A downgrade or cycle change waiting for the cycle end.
    public var scheduledChange: ChangeView?
    /// none, included (with the plan) or add_on (paid each cycle).
    public var rolloverProtection: String
    public var rolloverProtectionPrice: MoneyView?

    enum CodingKeys: String, CodingKey {
        case plan, cycle, status, credits, price
        case planName = "plan_name"
        case currentPeriod = "current_period"
        case renewsAt = "renews_at"
        case endsAt = "ends_at"
        case scheduledChange = "scheduled_change"
        case rolloverProtection = "rollover_protection"
        case rolloverProtectionPrice = "rollover_protection_price"
    }
}

/// `PUT /v1/organization/credit-mode`.
public struct CreditModeInput: APIInput, Sendable {
    public var mode: String
    public static let fields = JSONFields(["mode"])
    public init(mode: String) { self.mode = mode }
}
