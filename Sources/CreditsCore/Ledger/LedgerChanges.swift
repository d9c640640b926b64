import Foundation

/// One double-entry line: `amount` leaves `debit` and enters `credit`, with both accounts'
/// balances after it (the running balance a statement shows).
public struct LedgerEntry: Sendable, Equatable, Codable {
    public var transfer: TransferID
    public var debit: AccountID
    public var credit: AccountID
    public var amount: Credits
    public var debitBalanceAfter: Credits
    public var creditBalanceAfter: Credits
    /// The message or call a charge pays for; required on every entry into `usage`.
    public var reference: String?
    /// The hold this entry settles, if any.
    public var hold: HoldID?
    public var at: Date
    /// How the amount splits over lots, per account (debit side negative, credit side positive).
    public var lotMovements: [LotMovement]

    public init(
        transfer: TransferID,
        debit: AccountID,
        credit: AccountID,
        amount: Credits,
        debitBalanceAfter: Credits,
        creditBalanceAfter: Credits,
        reference: String?,
        hold: HoldID?,
        at: Date,
        lotMovements: [LotMovement]
    ) {
        precondition(amount.isPositive, "an entry moves a positive amount")
        precondition(debit != credit, "an entry moves between two accounts")
        self.transfer = transfer
        self.debit = debit
        self.credit = credit
        self.amount = amount
        self.debitBalanceAfter = debitBalanceAfter
        self.creditBalanceAfter = creditBalanceAfter
        self.reference = reference
        self.hold = hold
        self.at = at
        self.lotMovements = lotMovements
    }
}

/// A change of one lot's portion in one account caused by an entry.
public struct LotMovement: Sendable, Equatable, Codable {
    public var account: AccountID
    public var lot: LotID
    public var delta: Credits

    public init(account: AccountID, lot: LotID, delta: Credits) {
        self.account = account
        self.lot = lot
        self.delta = delta
    }
}

/// The result of one applied operation, returned to the caller and replayed for its key.
public struct LedgerOutcome: Sendable, Equatable, Codable {
    /// The operation's transfer record.
    public var transfer: TransferID
    /// Operation name.
    public var operation: String
    /// Credits moved in total (deposited, transferred, reserved, charged, expired …).
    public var amount: Credits
    /// For a hold resolution: credits released back (or to `expired` if their lot expired).
    public var released: Credits
    /// The hold placed or resolved, if any.
    public var hold: HoldID?
    /// Its status after the operation.
    public var holdStatus: HoldStatus?
    /// Balances after the operation of the pool or wallet involved (first account of the operation).
    public var balanceAfter: Credits?
    /// Available credits after the operation of that account.
    public var availableAfter: Credits?
    /// True when this is a replay of an earlier request with the same key.
    public var replayed: Bool

    public init(
        transfer: TransferID,
        operation: String,
        amount: Credits,
        released: Credits = .zero,
        hold: HoldID? = nil,
        holdStatus: HoldStatus? = nil,
        balanceAfter: Credits? = nil,
        availableAfter: Credits? = nil,
        replayed: Bool = false
    ) {
        self.transfer = transfer
        self.operation = operation
        self.amount = amount
        self.released = released
        self.hold = hold
        self.holdStatus = holdStatus
        self.balanceAfter = balanceAfter
        self.availableAfter = availableAfter
        self.replayed = replayed
    }

    enum CodingKeys: String, CodingKey {
        case transfer, operation, amount, released, hold, replayed
        case holdStatus = "hold_status"
        case balanceAfter = "balance_after"
        case availableAfter = "available_after"
    }
}

/// Everything a batch of operations changed, for the store to write in one transaction.
public struct LedgerChanges: Sendable, Equatable {
    /// Applied operations in order, with their outcomes and fingerprint digests (the idempotency
    /// records; the digest is computed once, when the book applies the request).
    public var transfers: [(request: LedgerRequest, outcome: LedgerOutcome, fingerprint: String)] = []
    /// New entries in order.
    public var entries: [LedgerEntry] = []
    /// New lots.
    public var lots: [Lot] = []
    /// New or changed holds (final state).
    public var holds: [HoldID: Hold] = [:]
    /// Holds created in this batch (inserted rather than updated).
    public var newHolds: Set<HoldID> = []
    /// Portions whose amounts changed (final state).
    public var portions: [PortionKey: Portion] = [:]
    /// Accounts whose balance or pending changed (final state).
    public var accounts: [AccountID: LedgerAccount] = [:]

    public init() {}

    public static func == (lhs: LedgerChanges, rhs: LedgerChanges) -> Bool {
        lhs.transfers.map(\.outcome) == rhs.transfers.map(\.outcome) && lhs.entries == rhs.entries
            && lhs.lots == rhs.lots
            && lhs.holds == rhs.holds && lhs.portions == rhs.portions && lhs.accounts == rhs.accounts
    }

    /// True when nothing changed.
    public var isEmpty: Bool { transfers.isEmpty }
}
