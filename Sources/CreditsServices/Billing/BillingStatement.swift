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
    /// Credits into (+) or out of (−) the organisation; transfers between its wallets move none.
    public var credits: Credits
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
        var creditsSubtotal = after?.creditsSubtotal ?? .zero
        var centsSubtotal: Int64 = after?.centsSubtotal ?? 0
        return movements.map { movement in
            let type: String
            var credits = movement.amount
            var wallet = owner(movement.toAccount, movement.toKind)
            switch (movement.fromKind, movement.toKind) {
            case (.purchases, _): type = movement.purchaseKind == .autoRenew ? "auto_renew" : "purchase"
            case (.planGrants, _): type = "grant"
            case (.adjustments, _): type = "adjustment"
            case (_, .expired):
                type = "expiry"
                credits = -movement.amount
                wallet = owner(movement.fromAccount, movement.fromKind)
            case (_, .adjustments):
                type = "adjustment"
                credits = -movement.amount
                wallet = owner(movement.fromAccount, movement.fromKind)
            default:
                type = "transfer"
                credits = .zero
            }
            creditsSubtotal = creditsSubtotal + credits
            centsSubtotal += movement.paidCents ?? 0
            return BillingTransactionView(
                id: movement.entryID,
                at: movement.at,
                type: type,
                description: movement.memo,
                wallet: wallet,
                credits: credits,
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
