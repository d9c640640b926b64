import Foundation

/// The periods of a plan: consecutive months (or years) starting at local midnight of the day
/// the plan starts, in the organisation's time zone. Each period is computed from the anchor
/// (not from the previous one), so a plan starting on the 31st renews on the last day of
/// shorter months and returns to the 31st; DST changes move the UTC instant, not the local time.
public enum PlanCycles {
    /// Most periods returned at once (a ten-year catch-up of a monthly plan).
    public static let periodsMax = 120

    /// Periods that have started by `now`, oldest first (at most `periodsMax`, the latest kept).
    public static func periods(startingAt start: Date, yearly: Bool, timeZone: TimeZone, through now: Date)
        -> [DateInterval]
    {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let anchor = calendar.startOfDay(for: start)
        guard anchor <= now else { return [] }
        func boundary(_ index: Int) -> Date? {
            calendar.date(byAdding: yearly ? .year : .month, value: index, to: anchor)
        }
        // Estimate the index of the current period, then step to it exactly.
        let approximateLength: TimeInterval = yearly ? 365.2425 * 86_400 : 30.436875 * 86_400
        var index = max(0, Int(now.timeIntervalSince(anchor) / approximateLength) - 1)
        while let next = boundary(index + 1), next <= now { index += 1 }
        let first = max(0, index - periodsMax + 1)
        return (first...index).compactMap { number in
            guard let start = boundary(number), let end = boundary(number + 1) else { return nil }
            return DateInterval(start: start, end: end)
        }
    }
}

/// An organisation's credit month: from local midnight of its allotment day (1–28) to the same
/// day of the next month, in its time zone. Allotments are added and numbers charged at its start.
public enum CreditMonth {
    /// The credit month that contains `instant`.
    public static func containing(_ instant: Date, day: Int, timeZone: TimeZone) -> DateInterval {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let day = min(max(day, 1), 28)
        var parts = calendar.dateComponents([.year, .month, .day], from: instant)
        if (parts.day ?? 1) < day {
            let previous = calendar.date(byAdding: .month, value: -1, to: instant) ?? instant
            parts = calendar.dateComponents([.year, .month], from: previous)
        }
        parts.day = day
        parts.hour = 0
        parts.minute = 0
        parts.second = 0
        let start = calendar.date(from: parts) ?? instant
        let end = calendar.date(byAdding: .month, value: 1, to: start) ?? start.addingTimeInterval(30 * 86_400)
        return DateInterval(start: start, end: end)
    }
}
