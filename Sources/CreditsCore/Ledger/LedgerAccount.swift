/// What a ledger account is for (DESIGN §2).
public enum AccountKind: String, Sendable, Codable, CaseIterable {
    /// The organisation's shared ("system") credits.
    case pool
    /// One staff member's credits in individual-credits mode.
    case wallet
    /// Source of purchased credits.
    case purchases
    /// Source of plan allotments.
    case planGrants = "plan_grants"
    /// Source or sink of operator adjustments.
    case adjustments
    /// Sink of spent credits.
    case usage
    /// Sink of credits whose lot expired (breakage).
    case expired

    /// Pools and wallets hold credits for people; the others are outside accounts.
    public var holdsCredits: Bool { self == .pool || self == .wallet }

    /// Outside accounts that may feed credits into a pool or wallet.
    public var isSource: Bool { self == .purchases || self == .planGrants || self == .adjustments }
}

/// A ledger account's state: its posted balance, what is held on it, and its overdraft line.
public struct LedgerAccount: Sendable, Equatable, Codable {
    /// Its identity.
    public var id: AccountID
    /// Its purpose.
    public var kind: AccountKind
    /// The staff member owning a wallet; nil for every other kind.
    public var staffID: String?
    /// Sum of all entries: credits in minus credits out (negative for sources).
    public var balance: Credits
    /// Credits reserved by pending holds.
    public var pending: Credits
    /// How far below zero the posted balance may go (0 = no overdraft, the default).
    public var overdraftLimit: Credits

    /// A new account with nothing on it.
    public init(
        id: AccountID,
        kind: AccountKind,
        staffID: String? = nil,
        balance: Credits = .zero,
        pending: Credits = .zero,
        overdraftLimit: Credits = .zero
    ) {
        precondition(kind == .wallet || staffID == nil, "only wallets belong to a staff member")
        self.id = id
        self.kind = kind
        self.staffID = staffID
        self.balance = balance
        self.pending = pending
        self.overdraftLimit = overdraftLimit
    }

    /// Posted balance minus pending holds.
    public var available: Credits { balance - pending }
}
