import Foundation

/// Where a hold stands. A hold resolves exactly once: posted, voided or timed out.
public enum HoldStatus: String, Sendable, Codable, CaseIterable {
    /// Reserved; waiting for the delivery report.
    case pending
    /// Charged (fully or partly; the rest was released).
    case posted
    /// Released without charge.
    case voided
    /// Resolved by the timeout policy because no final report came in time.
    case timedOut = "timed_out"
}

/// What to do with a hold whose message never got a final status in time.
public enum TimeoutPolicy: String, Sendable, Codable {
    /// Charge the full hold (a message still `sent` is assumed delivered).
    case post
    /// Release it.
    case void
}

/// Credits reserved on specific lot portions of one account.
public struct Hold: Sendable, Equatable, Codable {
    /// Its identity.
    public var id: HoldID
    /// The account it reserves on.
    public var account: AccountID
    /// Credits reserved.
    public var amount: Credits
    /// Where it stands.
    public var status: HoldStatus
    /// Credits charged when it resolved (0 while pending or when voided).
    public var postedAmount: Credits
    /// The reserved lot portions, in spending order.
    public var portions: [HoldPortion]
    /// What it pays for (a message or call id); every charge is tied to one.
    public var reference: String
    /// When it was placed.
    public var createdAt: Date
    /// When the timeout policy may resolve it.
    public var timeoutAt: Date
    /// When it resolved.
    public var resolvedAt: Date?
    /// The transfer that placed it.
    public var reserveTransfer: TransferID
    /// The transfer that resolved it.
    public var resolveTransfer: TransferID?

    /// A hold as stored.
    public init(
        id: HoldID,
        account: AccountID,
        amount: Credits,
        status: HoldStatus,
        postedAmount: Credits,
        portions: [HoldPortion],
        reference: String,
        createdAt: Date,
        timeoutAt: Date,
        resolvedAt: Date?,
        reserveTransfer: TransferID,
        resolveTransfer: TransferID?
    ) {
        self.id = id
        self.account = account
        self.amount = amount
        self.status = status
        self.postedAmount = postedAmount
        self.portions = portions
        self.reference = reference
        self.createdAt = createdAt
        self.timeoutAt = timeoutAt
        self.resolvedAt = resolvedAt
        self.reserveTransfer = reserveTransfer
        self.resolveTransfer = resolveTransfer
    }
}

/// Part of a hold: credits reserved on one lot.
public struct HoldPortion: Sendable, Equatable, Codable {
    public var lot: LotID
    public var amount: Credits

    public init(lot: LotID, amount: Credits) {
        self.lot = lot
        self.amount = amount
    }
}
