import CreditsCore
import CreditsStore
import Foundation

/// How pages show times, credits and numbers: in the organisation's time zone, as people read them.
enum WebFormat {
    /// "21 Nov 2026, 14:05" in a time zone.
    static func time(_ date: Date, in zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "d MMM yyyy, HH:mm"
        return formatter.string(from: date)
    }

    /// "21 Nov 2026".
    static func day(_ date: Date, in zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "d MMM yyyy"
        return formatter.string(from: date)
    }

    /// The starts of the last `days` local days and the start of tomorrow (days + 1 boundaries).
    static func dayBoundaries(endingAt now: Date, days: Int, in zone: TimeZone) -> [Date] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let tomorrow = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: now)) ?? now
        return (0...days).reversed().compactMap { calendar.date(byAdding: .day, value: -$0, to: tomorrow) }
    }

    /// A phone number in E.164 shown with spaces for North America ("+1 555 227 3066").
    static func phone(_ number: String) -> String {
        let digits = Array(number.dropFirst())
        guard number.hasPrefix("+1"), digits.count == 11 else { return number }
        return "+1 \(String(digits[1...3])) \(String(digits[4...6])) \(String(digits[7...]))"
    }

    /// An account for a template: balances as decimals, lots with their expiry.
    static func account(_ account: AccountView, zone: TimeZone = .gmt) -> [String: Any] {
        var values: [String: Any] = [
            "account_id": account.accountID.rawValue,
            "available": account.available.decimalString,
            "held": account.pending.decimalString,
            "posted": account.posted.decimalString,
            "lots": account.lots.map { lot -> [String: Any] in
                ["kind": lot.kind == .purchased ? "Purchased" : (lot.kind == .plan ? "Plan" : lot.kind.rawValue.capitalized),
                 "balance": lot.balance.decimalString, "held": lot.held.decimalString,
                 "expires": lot.expiresAt.map { time($0, in: zone) } ?? "Never"]
            },
        ]
        if let id = account.staffID { values["staff_id"] = id }
        if let name = account.staffName { values["staff_name"] = name }
        if let monthly = account.creditsPerMonth { values["credits_per_month"] = monthly.decimalString }
        return values
    }
}

/// The dashboard's bar chart of credits used per day, drawn as SVG on the server.
struct UsageChart {
    let days: [Date]
    let usage: [Credits]
    let zone: TimeZone

    static let width = 600
    static let height = 160
    static let top = 12
    static let bottom = 22

    func values() -> [String: Any] {
        let maximum = max(usage.map(\.milli).max() ?? 0, 1000)
        let plot = Double(UsageChart.height - UsageChart.top - UsageChart.bottom)
        let slot = Double(UsageChart.width) / Double(max(days.count, 1))
        let total = usage.reduce(Credits.zero, +)
        let bars = zip(days, usage).enumerated().map { index, pair -> [String: Any] in
            let (day, credits) = pair
            let height = plot * Double(credits.milli) / Double(maximum)
            let x = Double(index) * slot + slot * 0.15
            return ["x": String(format: "%.1f", x), "y": String(format: "%.1f", Double(UsageChart.height - UsageChart.bottom) - height),
                    "width": String(format: "%.1f", slot * 0.7), "height": String(format: "%.1f", height),
                    "label": "\(WebFormat.day(day, in: zone)): \(credits.decimalString) credits"]
        }
        let first = days.first.map { WebFormat.day($0, in: zone) } ?? ""
        let last = days.last.map { WebFormat.day($0, in: zone) } ?? ""
        return ["bars": bars, "width": String(UsageChart.width), "height": String(UsageChart.height), "baseline": String(UsageChart.height - UsageChart.bottom),
                "label_y": String(UsageChart.height - 6), "first_day": first, "last_day": last, "total": total.decimalString,
                "maximum": Credits(milli: maximum).decimalString, "end_x": String(UsageChart.width)]
    }
}

extension WebFormat {
    /// The start of a local day typed in a date box ("2026-11-21"); `next` gives the start of the day after.
    static func localDay(_ text: String?, zone: TimeZone, field: String, next: Bool = false) throws -> Date? {
        guard let text, !text.isEmpty else { return nil }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        guard parts.count == 3, let day = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])) else {
            throw APIError(.badRequest, "query_invalid", "\(field) is a date such as 2026-11-21.", field: field)
        }
        return next ? calendar.date(byAdding: .day, value: 1, to: day) : day
    }

    /// An instant typed in a date-and-time box ("2026-11-21T15:30"), in the organisation's time zone.
    static func localTime(_ text: String, zone identifier: String, field: String) throws -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: identifier) ?? .gmt
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        throw APIError.invalid(field, "\(field) is a date and time such as 2026-11-21T15:30.")
    }
}
