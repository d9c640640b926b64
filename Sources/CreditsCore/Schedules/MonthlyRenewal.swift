import Foundation

/// When monthly auto-renew buys and how much (DESIGN §4): one purchase on the 1st of each month
/// at 10:00 Central time (America/Chicago, daylight saving included) that restores the balance
/// above the threshold in whole multiples of the amount.
public enum MonthlyRenewal {
    /// The zone the purchase time is read in.
    public static let timeZone =
        TimeZone(identifier: "America/Chicago") ?? TimeZone(secondsFromGMT: -6 * 3600) ?? .current

    /// The month of `instant` in Chicago ("2026-12") and the instant of its purchase.
    public static func purchase(containing instant: Date) -> (month: String, at: Date)? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month], from: instant)
        guard let year = parts.year, let month = parts.month,
            let at = calendar.date(from: DateComponents(year: year, month: month, day: 1, hour: 10))
        else { return nil }
        return ("\(year)-\(month < 10 ? "0" : "")\(month)", at)
    }

    /// The first purchase instant after `instant` (this month's if it is still to come).
    public static func nextPurchase(after instant: Date) -> Date? {
        guard let current = purchase(containing: instant) else { return nil }
        if instant < current.at { return current.at }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard let nextMonth = calendar.date(byAdding: .month, value: 1, to: current.at) else { return nil }
        return purchase(containing: nextMonth)?.at
    }

    /// Credits the month's purchase buys: what restores the balance above the threshold, in
    /// whole multiples of the amount (none when the balance is not below it).
    public static func credits(available: Credits, threshold: Int64, amount: Int64) -> Int64 {
        precondition(amount > 0, "auto-renew buys a positive amount")
        let deficit = Credits(credits: threshold) - available
        guard deficit.isPositive else { return 0 }
        let perMultiple = Credits(credits: amount).milli
        return (deficit.milli / perMultiple + 1) * amount
    }
}
