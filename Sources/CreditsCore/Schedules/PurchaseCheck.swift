import Foundation

/// When a pending purchase is looked up at the gateway: a charge whose answer was lost or is
/// still in flight, or a bank debit that stays "processing" for days. The first look comes a
/// minute after the purchase began (most charges answer well within that); after each look that
/// leaves it pending, the next comes after a tenth of the purchase's age, at least a minute and
/// at most an hour, so a young purchase is settled quickly and a days-long debit is not asked
/// about every few seconds.
public enum PurchaseCheck {
    /// From the purchase's start to its first look-up.
    public static let first: TimeInterval = 60
    /// The longest wait between two look-ups.
    public static let longest: TimeInterval = 3600

    /// The first look-up of a purchase begun at `start`.
    public static func firstLook(startedAt start: Date) -> Date { start.addingTimeInterval(first) }

    /// The look-up after one at `instant` that left the purchase begun at `start` pending.
    public static func nextLook(startedAt start: Date, at instant: Date) -> Date {
        let age = max(instant.timeIntervalSince(start), 0)
        return instant.addingTimeInterval(min(max(age / 10, first), longest))
    }
}
