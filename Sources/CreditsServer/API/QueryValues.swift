import CreditsCore
import CreditsStore
import Foundation

/// Parsing of query-string values shared by list routes.
enum QueryValues {
    /// "30d", "12h", "90m", an ISO 8601 instant or a date (midnight UTC), relative to `now`.
    static func instant(_ text: String?, field: String, now: Date) throws -> Date? {
        guard let text else { return nil }
        if let unit = text.last, let amount = Int(text.dropLast()), amount >= 0, amount <= 100_000 {
            switch unit {
            case "d": return now.addingTimeInterval(-Double(amount) * 86_400)
            case "h": return now.addingTimeInterval(-Double(amount) * 3_600)
            case "m": return now.addingTimeInterval(-Double(amount) * 60)
            default: break
            }
        }
        let withTime = ISO8601DateFormatter()
        if let date = withTime.date(from: text) { return date }
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        if let date = dateOnly.date(from: text) { return date }
        throw APIError(
            .badRequest,
            "query_invalid",
            "\(field) must be like 30d, 24h, 2026-11-01 or 2026-11-01T10:00:00Z.",
            field: field
        )
    }

    /// A page size between 1 and `maximum` (default `fallback`).
    static func limit(_ text: String?, fallback: Int = 100, maximum: Int = 1000) throws -> Int {
        guard let text else { return fallback }
        guard let value = Int(text), (1...maximum).contains(value) else {
            throw APIError(
                .badRequest,
                "query_invalid",
                "limit must be a whole number from 1 to \(maximum).",
                field: "limit"
            )
        }
        return value
    }

    /// A newest-first cursor (campaigns, conversations).
    static func recencyCursor(_ text: String?) throws -> RecencyCursor? {
        guard let text else { return nil }
        guard let cursor = RecencyCursor(text) else {
            throw APIError(
                .badRequest,
                "query_invalid",
                "cursor is the next_cursor of a previous page.",
                field: "cursor"
            )
        }
        return cursor
    }

    /// A numeric cursor.
    static func numericCursor(_ text: String?) throws -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw APIError(
                .badRequest,
                "query_invalid",
                "cursor is the next_cursor of a previous page.",
                field: "cursor"
            )
        }
        return value
    }
}

/// RFC 4180 CSV with a header row and CRLF line ends.
public enum CSV {
    public static func document(header: [String], rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            return value
        }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// A page of results with the cursor for the next one.
struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    let data: [Item]
    let nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor = "next_cursor"
    }

    /// `next_cursor` is always present: null on the last page.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(data, forKey: .data)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}
