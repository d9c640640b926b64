import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Synchronization

/// How pages show times, credits and numbers: in the organisation's time zone, as people read them.
enum WebFormat {
    /// "21 Nov 2026, 14:05" in a time zone.
    static func time(_ date: Date, in zone: TimeZone) -> String {
        let parts = calendar(zone).dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return day(parts) + ", " + twoDigits(parts.hour ?? 0) + ":" + twoDigits(parts.minute ?? 0)
    }

    /// "21 Nov 2026".
    static func day(_ date: Date, in zone: TimeZone) -> String {
        day(calendar(zone).dateComponents([.year, .month, .day], from: date))
    }

    static func day(_ parts: DateComponents) -> String {
        "\(parts.day ?? 0) \(monthNames[max(0, min(11, (parts.month ?? 1) - 1))]) \(parts.year ?? 0)"
    }

    static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// A Gregorian calendar in a time zone, made once per zone (pages format many times per request).
    static func calendar(_ zone: TimeZone) -> Calendar {
        calendars.withLock { calendars in
            if let known = calendars[zone.identifier] { return known }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            if calendars.count < 1000 { calendars[zone.identifier] = calendar }
            return calendar
        }
    }

    private static let calendars = Mutex<[String: Calendar]>([:])

    /// The starts of the last `days` local days and the start of tomorrow (days + 1 boundaries).
    static func dayBoundaries(endingAt now: Date, days: Int, in zone: TimeZone) -> [Date] {
        let calendar = calendar(zone)
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
                [
                    "kind": lot.kind == .purchased
                        ? "Purchased" : (lot.kind == .plan ? "Plan" : lot.kind.rawValue.capitalized),
                    "balance": lot.balance.decimalString, "held": lot.held.decimalString,
                    "expires": lot.expiresAt.map { time($0, in: zone) } ?? "Never",
                ]
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
    /// Credits used each day, and the part of them voice calls used.
    let usage: [(total: Credits, voice: Credits)]
    let zone: TimeZone

    static let width = 600
    static let height = 160
    static let top = 12
    static let bottom = 22

    /// A non-negative coordinate with one decimal ("14.0"), without Foundation's slow `String(format:)`.
    static func tenths(_ value: Double) -> String {
        let tenths = Int((max(0, value) * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    func values() -> [String: Any] {
        let maximum = max(usage.map(\.total.milli).max() ?? 0, 1000)
        let plot = Double(UsageChart.height - UsageChart.top - UsageChart.bottom)
        let slot = Double(UsageChart.width) / Double(max(days.count, 1))
        let total = usage.reduce(Credits.zero) { $0 + $1.total }
        let voice = usage.reduce(Credits.zero) { $0 + $1.voice }
        let bars = zip(days, usage).enumerated().map { index, pair -> [String: Any] in
            let (day, credits) = pair
            let height = plot * Double(credits.total.milli) / Double(maximum)
            // The voice part is drawn at the top of the day's bar, in its own colour.
            let voiceHeight = plot * Double(credits.voice.milli) / Double(maximum)
            let x = Double(index) * slot + slot * 0.15
            let texts = credits.total - credits.voice
            return [
                "x": UsageChart.tenths(x),
                "y": UsageChart.tenths(Double(UsageChart.height - UsageChart.bottom) - height),
                "width": UsageChart.tenths(slot * 0.7), "height": UsageChart.tenths(height),
                "voice_height": UsageChart.tenths(voiceHeight), "has_voice": credits.voice > .zero,
                "label":
                    "\(WebFormat.day(day, in: zone)): \(credits.total.decimalString) credits (texts \(texts.decimalString), voice \(credits.voice.decimalString))",
            ]
        }
        let first = days.first.map { WebFormat.day($0, in: zone) } ?? ""
        let last = days.last.map { WebFormat.day($0, in: zone) } ?? ""
        return [
            "bars": bars, "width": String(UsageChart.width), "height": String(UsageChart.height),
            "baseline": String(UsageChart.height - UsageChart.bottom),
            "label_y": String(UsageChart.height - 6), "first_day": first, "last_day": last,
            "total": total.decimalString,
            "texts_total": (total - voice).decimalString, "voice_total": voice.decimalString,
            "maximum": Credits(milli: maximum).decimalString, "end_x": String(UsageChart.width),
        ]
    }
}

extension WebFormat {
    /// The start of a local day typed in a date box ("2026-11-21"); `next` gives the start of the day after.
    static func localDay(_ text: String?, zone: TimeZone, field: String, next: Bool = false) throws -> Date? {
        guard let text, !text.isEmpty else { return nil }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        let calendar = calendar(zone)
        guard parts.count == 3,
            let day = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
        else {
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

extension WebFormat {
    /// "1 credit", "6 credits", "2.5 credits".
    static func credits(_ amount: Credits) -> String {
        amount.counted()
    }

    /// "1 text", "3 texts".
    static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }
}
