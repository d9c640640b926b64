import CreditsCore
import CreditsStore
import Foundation

/// One line of `GET /v1/billing/transactions`.
public struct BillingTransactionView: Encodable, Sendable {
    public var id: Int64
    public var at: Date
    /// purchase, auto_renew, grant, adjustment, transfer or expiry.
    public var type: String
    public var description: String
    /// "pool" or a staff id: where the credits arrived (or left, for expiries and withdrawals).
    public var wallet: String
    /// Credits into (+) or out of (−) the organisation; for a transfer, into or out of the staff
    /// member's wallet (it leaves the organisation's subtotal as it was).
    public var credits: Credits
    /// For a transfer: the staff member's wallet before and after it ("300 → 189").
    public var walletBalanceBefore: Credits?
    public var walletBalanceAfter: Credits?
    /// What a purchase cost.
    public var amount: MoneyView?
    public var invoice: String?
    /// Running totals from the first line shown.
    public var creditsSubtotal: Credits
    public var amountSubtotal: MoneyView

    enum CodingKeys: String, CodingKey {
        case id, at, type, description, wallet, credits, amount, invoice
        case creditsSubtotal = "credits_subtotal"
        case amountSubtotal = "amount_subtotal"
        case walletBalanceBefore = "wallet_balance_before"
        case walletBalanceAfter = "wallet_balance_after"
    }
}

/// Where a page of the billing statement ended: the next page starts after this entry and carries
/// its running subtotals on.
public struct StatementPosition: Sendable, Equatable {
    public var entryID: Int64
    public var creditsSubtotal: Credits
    public var centsSubtotal: Int64

    public init(entryID: Int64, creditsSubtotal: Credits, centsSubtotal: Int64) {
        self.entryID = entryID
        self.creditsSubtotal = creditsSubtotal
        self.centsSubtotal = centsSubtotal
    }

    /// The position right after a line.
    public init(after line: BillingTransactionView) {
        self.init(entryID: line.id, creditsSubtotal: line.creditsSubtotal, centsSubtotal: line.amountSubtotal.cents)
    }
}

/// The billing statement: where the organisation's credits came from and where they went,
/// other than to messages, with what was paid and running subtotals.
enum BillingStatement {
    /// The statement's lines, the running subtotals continuing from `after` (the last line of
    /// the previous page) when there is one.
    static func lines(
        _ movements: [BillingMovement],
        staff: [StaffMember],
        currency: String,
        after: StatementPosition? = nil
    )
        -> [BillingTransactionView]
    {
        func owner(_ account: AccountID, _ kind: AccountKind) -> String {
            kind == .wallet ? staff.first { $0.wallet == account }?.id ?? account.rawValue : "pool"
        }
        func name(_ account: AccountID) -> String {
            staff.first { $0.wallet == account }?.name ?? "a former staff member"
        }
        var creditsSubtotal = after?.creditsSubtotal ?? .zero
        var centsSubtotal: Int64 = after?.centsSubtotal ?? 0
        return movements.map { movement in
            let type: String
            var credits = movement.amount
            var wallet = owner(movement.toAccount, movement.toKind)
            var description = movement.memo
            var before: Credits?
            var after: Credits?
            var subtotalChange = movement.amount
            switch (movement.fromKind, movement.toKind) {
            case (.purchases, _): type = movement.purchaseKind == .autoRenew ? "auto_renew" : "purchase"
            case (.planGrants, _): type = "grant"
            case (.adjustments, _): type = "adjustment"
            case (_, .expired):
                type = "expiry"
                credits = -movement.amount
                subtotalChange = credits
                wallet = owner(movement.fromAccount, movement.fromKind)
            case (_, .adjustments):
                type = "adjustment"
                credits = -movement.amount
                subtotalChange = credits
                wallet = owner(movement.fromAccount, movement.fromKind)
            default:
                // Between the pool and wallets: the organisation's total stays; the line shows
                // the staff member's change (the PastorsLine page: "we removed 111 credits from
                // Dave George's initial 300 to make it 189").
                type = "transfer"
                subtotalChange = .zero
                let amount = movement.amount
                if movement.toKind == .wallet && movement.fromKind == .pool {
                    after = movement.toBalanceAfter
                    before = movement.toBalanceAfter - amount
                    description =
                        "Added \(amount) credits to \(name(movement.toAccount)): \(before ?? .zero) → \(after ?? .zero)"
                } else if movement.fromKind == .wallet && movement.toKind == .pool {
                    after = movement.fromBalanceAfter
                    before = movement.fromBalanceAfter + amount
                    credits = -amount
                    wallet = owner(movement.fromAccount, movement.fromKind)
                    description =
                        "Removed \(amount) credits from \(name(movement.fromAccount)): \(before ?? .zero) → \(after ?? .zero)"
                } else if movement.fromKind == .wallet && movement.toKind == .wallet {
                    after = movement.toBalanceAfter
                    before = movement.toBalanceAfter - amount
                    description =
                        "Moved \(amount) credits from \(name(movement.fromAccount)) (\(movement.fromBalanceAfter + amount) → \(movement.fromBalanceAfter)) to \(name(movement.toAccount)): \(before ?? .zero) → \(after ?? .zero)"
                } else {
                    credits = .zero
                }
            }
            creditsSubtotal = creditsSubtotal + subtotalChange
            centsSubtotal += movement.paidCents ?? 0
            return BillingTransactionView(
                id: movement.entryID,
                at: movement.at,
                type: type,
                description: description,
                wallet: wallet,
                credits: credits,
                walletBalanceBefore: before,
                walletBalanceAfter: after,
                amount: movement.paidCents.map { MoneyView($0, currency: currency) },
                invoice: movement.invoiceNumber != nil ? movement.purchaseID.map { "/v1/invoices/\($0)" } : nil,
                creditsSubtotal: creditsSubtotal,
                amountSubtotal: MoneyView(centsSubtotal, currency: currency)
            )
        }
    }
}

extension BillingService {
    /// `GET /v1/billing/transactions`.
    /// A page of the statement, oldest first, after `after` (whose subtotals it continues).
    public func transactions(
        _ principal: Principal,
        since: Date?,
        until: Date?,
        after: StatementPosition? = nil,
        limit: Int = BillingService.statementPageMax
    ) async throws -> [BillingTransactionView] {
        try principal.requireAny(.purchaseCredits, .viewLogs)
        let movements = try await store.movements(
            of: principal.organizationID,
            since: since,
            until: until,
            afterEntry: after?.entryID,
            limit: limit
        )
        let staff = try await organizations.staff(of: principal.organizationID)
        return BillingStatement.lines(movements, staff: staff, currency: creditPrices.currency, after: after)
    }

    /// Most lines of the statement one read returns.
    public static var statementPageMax: Int { BillingStore.statementRowsMax }
}
