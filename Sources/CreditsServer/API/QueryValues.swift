import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

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

    /// Whole credits 0–10,000,000 (a value typed in a dialog, asked about before it is saved).
    static func credits(_ text: String?, field: String) throws -> Credits? {
        guard let text else { return nil }
        guard text.allSatisfy(\.isASCII), let value = Int64(text), (0...10_000_000).contains(value) else {
            throw APIError(
                .badRequest,
                "query_invalid",
                "\(field) must be a whole number of credits from 0 to 10,000,000.",
                field: field
            )
        }
        return Credits(credits: value)
    }

    /// A cursor that is a row's position (0 or more).
    static func index(_ text: String?) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), value >= 0, value <= 1_000_000 else {
            throw APIError(
                .badRequest,
                "query_invalid",
                "cursor must be a next_cursor this list gave.",
                field: "cursor"
            )
        }
        return value
    }

    /// A page of a list kept oldest first by creation (staff, API keys), read with the request's
    /// `limit` and `cursor`, with the cursor of the next page when this one is full.
    static func oldestFirst<Item: CreatedInOrder & Encodable & Sendable>(
        _ request: Request,
        _ read: (RecencyCursor?, Int) async throws -> [Item]
    ) async throws -> Response {
        let limit = try limit(request.query("limit"))
        let page = try await read(try recencyCursor(request.query("cursor")), limit)
        let next =
            page.count == limit
            ? page.last.map { RecencyCursor(milliseconds: $0.createdAt.milliseconds, id: $0.id).text } : nil
        return try JSONOutput.response(Page(data: page, nextCursor: next))
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

    /// The billing statement's cursor: the last entry shown and the subtotals so far ("41.1500.4500").
    static func statementCursor(_ text: String?) throws -> StatementPosition? {
        guard let text else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { Int64($0) }
        guard parts.count == 3, let entry = parts[0], let milli = parts[1], let cents = parts[2], entry >= 0 else {
            throw APIError(
                .badRequest,
                "query_invalid",
                "cursor is the next_cursor of a previous page.",
                field: "cursor"
            )
        }
        return StatementPosition(entryID: entry, creditsSubtotal: Credits(milli: milli), centsSubtotal: cents)
    }

    /// The cursor of the page after `line`.
    static func statementCursor(after line: BillingTransactionView) -> String {
        let position = StatementPosition(after: line)
        return "\(position.entryID).\(position.creditsSubtotal.milli).\(position.centsSubtotal)"
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

/// Something listed in the order it was made: by its creation time, then its id.
protocol CreatedInOrder {
    var createdAt: Date { get }
    var id: String { get }
}

extension StaffMember: CreatedInOrder {}
extension APIKeyRecord: CreatedInOrder {}
