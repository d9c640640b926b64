import Foundation

/// A day of the week, as organisations pick the days they send on.
public enum Weekday: String, Sendable, Codable, CaseIterable, Comparable {
    case mon, tue, wed, thu, fri, sat, sun

    /// Foundation's weekday number (Sunday = 1).
    var gregorianNumber: Int {
        switch self {
        case .sun: 1
        case .mon: 2
        case .tue: 3
        case .wed: 4
        case .thu: 5
        case .fri: 6
        case .sat: 7
        }
    }

    init?(gregorianNumber: Int) {
        guard let day = Weekday.allCases.first(where: { $0.gregorianNumber == gregorianNumber }) else { return nil }
        self = day
    }

    /// Monday-first order, as schedules are read.
    var order: Int { (gregorianNumber + 5) % 7 }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.order < rhs.order }
}

/// A wall-clock time of day, in minutes after midnight (0 ..< 1440, or 1440 for "end of day").
public struct TimeOfDay: Sendable, Equatable, Comparable, Codable, CustomStringConvertible {
    /// Minutes after local midnight.
    public var minutes: Int

    /// A time from minutes after midnight.
    public init?(minutes: Int) {
        guard (0...1440).contains(minutes) else { return nil }
        self.minutes = minutes
    }

    /// Midnight at the start of a day.
    public static let startOfDay = TimeOfDay(checkedMinutes: 0)
    /// Midnight at the end of a day ("24:00").
    public static let endOfDay = TimeOfDay(checkedMinutes: 1440)

    private init(checkedMinutes: Int) { self.minutes = checkedMinutes }

    /// Parses "HH:MM" (24-hour; "24:00" means the end of the day).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count <= 2, parts[1].count == 2,
            let hours = Int(parts[0]), let minutes = Int(parts[1]),
            (0...24).contains(hours), (0..<60).contains(minutes)
        else { return nil }
        self.init(minutes: hours * 60 + minutes)
    }

    /// "HH:MM".
    public var description: String {
        let hours = minutes / 60
        let rest = minutes % 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (rest < 10 ? "0" : "") + "\(rest)"
    }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool { lhs.minutes < rhs.minutes }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = TimeOfDay(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a time as HH:MM")
        }
        self = value
    }
}

/// When an organisation may send: a daily window on chosen days, in its own time zone.
///
/// Evaluation is DST-safe: windows are computed from local wall-clock times for each calendar
/// day, so on a day that is 23 or 25 hours long the window still opens at the local time.
public struct SendingHours: Sendable, Equatable, Codable {
    /// IANA time zone of the organisation, e.g. "America/Chicago".
    public var timeZone: String
    /// Local opening time.
    public var start: TimeOfDay
    /// Local closing time (exclusive).
    public var end: TimeOfDay
    /// Days the window applies to; on other days nothing is sent.
    public var days: [Weekday]

    enum CodingKeys: String, CodingKey {
        case start, end, days
        case timeZone = "time_zone"
    }

    /// Builds and validates sending hours.
    public init(timeZone: String, start: TimeOfDay, end: TimeOfDay, days: [Weekday]) throws(SendingHoursError) {
        guard TimeZone(identifier: timeZone) != nil else { throw .unknownTimeZone(timeZone) }
        guard start < end else { throw .emptyWindow }
        guard !days.isEmpty else { throw .noDays }
        self.init(checkedTimeZone: timeZone, start: start, end: end, days: days)
    }

    private init(checkedTimeZone: String, start: TimeOfDay, end: TimeOfDay, days: [Weekday]) {
        self.timeZone = checkedTimeZone
        self.start = start
        self.end = end
        self.days = Array(Set(days)).sorted()
    }

    /// Every day, all day, in a time zone: the default until an organisation sets its hours.
    public static func always(in timeZone: String) -> SendingHours {
        SendingHours(
            checkedTimeZone: TimeZone(identifier: timeZone) == nil ? "UTC" : timeZone,
            start: .startOfDay,
            end: .endOfDay,
            days: Weekday.allCases
        )
    }

    /// Checks a decoded value the same way the initialiser does.
    public func validated() throws(SendingHoursError) -> SendingHours {
        try SendingHours(timeZone: timeZone, start: start, end: end, days: days)
    }

    /// Whether sending is allowed at `now`, and if not, when the window next opens.
    public func evaluate(at now: Date) -> SendingWindowState {
        let calendar = self.calendar
        let startOfToday = calendar.startOfDay(for: now)
        // Today through a week ahead: enough for any schedule with at least one day.
        for dayOffset in 0...7 {
            guard let day = calendar.date(byAdding: .day, value: dayOffset, to: startOfToday),
                let weekday = Weekday(gregorianNumber: calendar.component(.weekday, from: day)),
                days.contains(weekday)
            else { continue }
            let opens = instant(of: start, on: day, calendar: calendar)
            let closes = instant(of: end, on: day, calendar: calendar)
            if now < opens { return .closed(opensAt: opens) }
            if now < closes { return .open(closesAt: closes) }
        }
        preconditionFailure("sending hours with at least one day always open within a week")
    }

    /// The instant a local wall-clock time happens on a calendar day. A time skipped by a DST
    /// jump resolves to the first instant after the jump; a repeated time to its first occurrence.
    func instant(of time: TimeOfDay, on day: Date, calendar: Calendar) -> Date {
        if time.minutes == 1440 {
            return calendar.date(byAdding: .day, value: 1, to: day).map { calendar.startOfDay(for: $0) } ?? day
        }
        var components = calendar.dateComponents([.year, .month, .day], from: day)
        components.hour = time.minutes / 60
        components.minute = time.minutes % 60
        components.second = 0
        guard let date = calendar.date(from: components) else { return day }
        let local = calendar.dateComponents([.hour, .minute], from: date)
        if (local.hour ?? 0) * 60 + (local.minute ?? 0) != time.minutes,
            let next = calendar.nextDate(
                after: day,
                matching: DateComponents(hour: components.hour, minute: components.minute),
                matchingPolicy: .nextTime
            )
        {
            return next
        }
        return date
    }

    var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone) ?? .gmt
        return calendar
    }
}

/// Whether the window is open now.
public enum SendingWindowState: Sendable, Equatable {
    /// Sending is allowed until `closesAt`.
    case open(closesAt: Date)
    /// Sending is not allowed; the window next opens at `opensAt`.
    case closed(opensAt: Date)

    /// True while sending is allowed.
    public var isOpen: Bool { if case .open = self { true } else { false } }
}

/// Why sending hours were refused.
public enum SendingHoursError: Error, Sendable, Equatable {
    case unknownTimeZone(String)
    case emptyWindow
    case noDays

    /// Stable code.
    public var code: String {
        switch self {
        case .unknownTimeZone: "time_zone_unknown"
        case .emptyWindow: "sending_hours_empty"
        case .noDays: "sending_days_empty"
        }
    }

    /// A sentence for people.
    public var message: String {
        switch self {
        case .unknownTimeZone(let zone): "\(zone) is not a known time zone; use an IANA name such as America/Chicago."
        case .emptyWindow: "Sending hours must end after they start."
        case .noDays: "Choose at least one day for sending."
        }
    }
}
