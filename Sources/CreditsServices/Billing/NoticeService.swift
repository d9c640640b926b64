import CreditsCore
import CreditsStore
import Foundation

/// One banner for the signed-in staff member.
public struct NoticeView: Encodable, Sendable, Equatable {
    /// What the banner is about.
    public enum Code: String, Sendable, Encodable {
        case autoRenewFailed = "auto_renew_failed"
        /// The plan's renewal was declined: no plan credits until a charge succeeds.
        case subscriptionPastDue = "subscription_past_due"
        /// The month's platform fee could not be charged.
        case monthlyFeeUnpaid = "monthly_fee_unpaid"
        case outOfCredits = "out_of_credits"
        /// Nothing was ever bought or given: the first credits are still to come.
        case noCreditsYet = "no_credits_yet"
        case lowBalance = "low_balance"
    }

    /// How loud the banner is.
    public enum Level: String, Sendable, Encodable {
        case error
        case warning
    }

    public var code: Code
    public var level: Level
    public var message: String
}

/// `GET /v1/notices`: what the portal shows at the top of every page.
public struct NoticeService: Sendable {
    let autoRenew: AutoRenewStore
    let ledgerStore: SQLLedgerStore
    let plans: PlanStore
    let billing: BillingStore

    public init(autoRenew: AutoRenewStore, ledgerStore: SQLLedgerStore, plans: PlanStore, billing: BillingStore) {
        self.autoRenew = autoRenew
        self.ledgerStore = ledgerStore
        self.plans = plans
        self.billing = billing
    }

    /// The notice worth a pop-up (once per sign-in) among `notices`: only for staff who can buy
    /// credits, and only about the organisation's credits — out of them, low on them, or (gently)
    /// none bought yet. Everyone else has the banner alone.
    public static func popUp(_ notices: [NoticeView], for principal: Principal) -> NoticeView? {
        guard principal.can(.purchaseCredits) else { return nil }
        return notices.first { [.outOfCredits, .lowBalance, .noCreditsYet].contains($0.code) }
    }

    public func notices(_ principal: Principal) async throws -> [NoticeView] {
        var notices: [NoticeView] = []
        let organization = principal.organizationID
        if let settings = try await autoRenew.settings(organization), settings.failedPurchaseID != nil,
            principal.can(.purchaseCredits) || principal.can(.manageSettings)
        {
            notices.append(
                NoticeView(
                    code: .autoRenewFailed,
                    level: .error,
                    message:
                        "We attempted to auto-purchase \(settings.credits) SMS credits, but the payment was declined, so auto-renew is off. "
                        + "Update the payment method under billing: the charge is retried and, if it succeeds, auto-renew is turned back on."
                )
            )
        }
        if let plan = try await plans.plan(organization), plan.active, plan.status == .pastDue,
            principal.can(.purchaseCredits) || principal.can(.manageSettings)
        {
            notices.append(
                NoticeView(
                    code: .subscriptionPastDue,
                    level: .error,
                    message:
                        "The \(plan.name) plan's renewal was declined, so no plan credits were added this cycle. "
                        + "Update the payment method under billing: the charge is retried and the plan credits are added when it succeeds."
                )
            )
        }
        if principal.can(.purchaseCredits) || principal.can(.manageSettings),
            let fee = try await billing.latest(.monthlyFee, of: organization), fee.status == .failed
        {
            notices.append(
                NoticeView(
                    code: .monthlyFeeUnpaid,
                    level: .error,
                    message:
                        "The monthly fee could not be charged (\(fee.failureMessage ?? "declined")). Update the payment method under billing: it is charged again at once."
                )
            )
        }
        // The balance this person sends from: their wallet in individual-credits mode, else the pool.
        let accounts = try await ledgerStore.accounts(of: organization)
        let account =
            principal.staff.wallet.flatMap { wallet in accounts.first { $0.id == wallet } }
            ?? accounts.first { $0.kind == .pool }
        guard let account else { return notices }
        let whose = account.kind == .wallet ? "Your" : "The organisation's"
        if account.available <= .zero, account.pending == .zero, try await !ledgerStore.everCredited(account.id) {
            let first =
                account.kind == .wallet
                ? "You have no SMS credits yet: an admin can transfer some to you on the Credits page."
                : principal.can(.purchaseCredits)
                    ? "Buy your first SMS credits to start texting: texts are sent once the organisation has credits."
                    : "The organisation has no SMS credits yet: someone who buys credits can add the first ones."
            notices.append(NoticeView(code: .noCreditsYet, level: .warning, message: first))
        } else if account.available <= .zero {
            notices.append(
                NoticeView(
                    code: .outOfCredits,
                    level: .error,
                    message:
                        "\(whose) SMS credits are used up: texts cannot be sent until credits are purchased or transferred."
                )
            )
        } else if let threshold = principal.staff.lowBalanceThreshold, account.available < threshold {
            notices.append(
                NoticeView(
                    code: .lowBalance,
                    level: .warning,
                    message:
                        "\(whose) SMS credit balance is low: \(account.available) credits left (your alert is set below \(threshold))."
                )
            )
        }
        return notices
    }
}
