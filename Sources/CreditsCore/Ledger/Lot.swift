import Foundation

/// Where a lot's credits came from, which decides whether they expire.
public enum LotKind: String, Sendable, Codable, CaseIterable {
    /// A plan allotment ("non-rollover"): expires at the end of its cycle.
    case plan
    /// A one-time purchase ("forever rollover"): never expires.
    case purchased
    /// An operator's goodwill credits or correction: never expires.
    case adjustment
    /// The negative portion a wallet runs on its overdraft line; repaid first by new credits.
    case overdraft
}

/// Credits that entered the ledger together. Portions of a lot may sit in several wallets
/// after transfers; all keep the lot's expiry.
public struct Lot: Sendable, Equatable, Codable {
    /// Its identity.
    public var id: LotID
    /// Plan, purchased, adjustment or overdraft.
    public var kind: LotKind
    /// Credits it brought in (0 for an overdraft lot).
    public var amount: Credits
    /// When what is left of it expires; nil for never.
    public var expiresAt: Date?
    /// When it was created; older non-expiring lots are spent first.
    public var createdAt: Date

    /// A lot as stored.
    public init(id: LotID, kind: LotKind, amount: Credits, expiresAt: Date?, createdAt: Date) {
        self.id = id
        self.kind = kind
        self.amount = amount
        self.expiresAt = expiresAt
        self.createdAt = createdAt
    }

    /// True when the lot has expired at `instant` (expiry is the instant itself: at `expiresAt`
    /// the credits are gone).
    public func isExpired(at instant: Date) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt <= instant
    }

    /// Spending order: expiring lots first, earliest expiry first; then never-expiring lots,
    /// oldest first; ties broken by id so the order is total.
    public static func spendsBefore(_ lhs: Lot, _ rhs: Lot) -> Bool {
        switch (lhs.expiresAt, rhs.expiresAt) {
        case (let left?, let right?) where left != right: return left < right
        case (.some, nil): return true
        case (nil, .some): return false
        default:
            if lhs.createdAt != rhs.createdAt { return lhs.createdAt < rhs.createdAt }
            return lhs.id < rhs.id
        }
    }
}

/// The part of one lot held in one account.
public struct Portion: Sendable, Equatable, Codable {
    /// Posted credits of the lot in the account (negative only for an overdraft lot).
    public var balance: Credits
    /// Of those, reserved by pending holds.
    public var held: Credits

    /// A portion with the given amounts.
    public init(balance: Credits = .zero, held: Credits = .zero) {
        self.balance = balance
        self.held = held
    }

    /// Credits of the portion that can still be reserved, spent or moved.
    public var free: Credits { balance - held }
}

/// Identifies a portion: one lot in one account.
public struct PortionKey: Hashable, Sendable, Codable {
    public var account: AccountID
    public var lot: LotID

    public init(account: AccountID, lot: LotID) {
        self.account = account
        self.lot = lot
    }
}
