import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// `/v1/credits…`, `/v1/estimate`, `/v1/audit-log`.
struct CreditRoutes {
    let credits: CreditService
    let auditLog: AuditLog
    let prices: PriceList
    let now: @Sendable () -> Date

    func add(to table: RouteTable, group: RouterGroup<AppRequestContext>) {
        let (credits, auditLog, prices, now) = (credits, auditLog, prices, now)
        table.add(.get, "/v1/credits", through: group) { _, context in
            try JSONOutput.response(try await credits.view(try context.authenticated()))
        }
        table.add(.post, "/v1/credits/transfers", through: group) { request, context in
            let principal = try context.authenticated()
            let key = try request.idempotencyKey()
            let input = try await JSONInput.decode(TransferInput.self, from: request)
            let result = try await credits.transfer(principal, input, idempotencyKey: key)
            return try JSONOutput.response(result, status: result.replayed ? .ok : .created)
        }
        table.add(.get, "/v1/credits/entries", through: group) { request, context in
            let principal = try context.authenticated()
            let now = now()
            let limit = try QueryValues.limit(request.query("limit"), fallback: 200)
            let (account, lines) = try await credits.statement(
                principal,
                account: request.query("wallet") ?? "pool",
                since: try QueryValues.instant(request.query("since"), field: "since", now: now),
                until: try QueryValues.instant(request.query("until"), field: "until", now: now),
                afterID: try QueryValues.numericCursor(request.query("cursor")),
                limit: request.wantsCSV ? CreditService.statementPageMax : limit
            )
            if request.wantsCSV {
                return CSVResponse.make(
                    StatementCSV.document(lines),
                    filename: "credits-\(account.kind.rawValue)-\(account.id).csv"
                )
            }
            return try JSONOutput.response(
                Page(data: lines, nextCursor: lines.count == limit ? lines.last.map { String($0.id) } : nil)
            )
        }
        table.add(.post, "/v1/estimate", through: group) { request, context in
            try await CreditRoutes.estimate(request, context, prices: prices)
        }
        table.add(.get, "/v1/audit-log", through: group) { request, context in
            let principal = try context.authenticated()
            let limit = try QueryValues.limit(request.query("limit"))
            let entries = try await CreditRoutes.auditEntries(
                request,
                principal,
                auditLog: auditLog,
                now: now(),
                limit: request.wantsCSV ? AuditLog.pageMax : limit
            )
            if request.wantsCSV { return CSVResponse.make(AuditCSV.document(entries), filename: "audit-log.csv") }
            return try JSONOutput.response(
                Page(data: entries, nextCursor: entries.count == limit ? entries.last.map { String($0.id) } : nil)
            )
        }
    }
}

extension CreditRoutes {
    /// The audit entries a request's filters select (`since`, `until`, `action`, `actor`, `subject`, `cursor`).
    static func auditEntries(_ request: Request, _ principal: Principal, auditLog: AuditLog, now: Date, limit: Int)
        async throws -> [AuditEntry]
    {
        try principal.require(.viewLogs)
        return try await auditLog.entries(
            principal,
            AuditQuery(
                since: try QueryValues.instant(request.query("since"), field: "since", now: now),
                until: try QueryValues.instant(request.query("until"), field: "until", now: now),
                action: request.query("action"),
                actorID: request.query("actor"),
                subjectID: request.query("subject"),
                afterID: try QueryValues.numericCursor(request.query("cursor")),
                limit: limit
            )
        )
    }

    /// The estimate of a text (the API's and the composer's ticker).
    static func estimate(_ request: Request, _ context: AppRequestContext, prices: PriceList) async throws -> Response {
        let principal = try context.authenticated()
        let input = try await JSONInput.decode(EstimateInput.self, from: request)
        let estimate = try EstimateService.estimate(input, for: principal.organization, prices: prices)
        return JSONOutput.response(bytes: estimate.jsonBytes())
    }
}

/// CSV responses as downloads.
enum CSVResponse {
    static func make(_ text: String, filename: String) -> Response {
        WebResponse.download(text, contentType: "text/csv; charset=utf-8", filename: filename)
    }
}

/// The statement as CSV (the seeds' "Download CSV" of the last 30 days log).
public enum StatementCSV {
    public static func document(_ lines: [StatementLine]) -> String {
        let formatter = ISO8601DateFormatter()
        return CSV.document(
            header: ["time", "operation", "description", "credits", "balance", "counterparty", "reference", "by"],
            rows: lines.map { line in
                [
                    formatter.string(from: line.at), line.operation, line.memo, line.amount.decimalString,
                    line.balanceAfter.decimalString,
                    line.counterpartyKind.rawValue, line.reference ?? "", line.actor,
                ]
            }
        )
    }
}

/// The audit log as CSV.
public enum AuditCSV {
    public static func document(_ entries: [AuditEntry]) -> String {
        let formatter = ISO8601DateFormatter()
        return CSV.document(
            header: ["time", "actor", "actor_type", "action", "message"],
            rows: entries.map {
                [formatter.string(from: $0.at), $0.actorName, $0.actorType.rawValue, $0.action, $0.message]
            }
        )
    }
}

/// The billing statement as CSV.
public enum BillingStatementCSV {
    public static func document(_ lines: [BillingTransactionView]) -> String {
        let formatter = ISO8601DateFormatter()
        return CSV.document(
            header: [
                "time", "type", "description", "wallet", "credits", "amount", "credits_subtotal", "amount_subtotal",
                "invoice",
            ],
            rows: lines.map { line in
                [
                    formatter.string(from: line.at), line.type, line.description, line.wallet,
                    line.credits.decimalString, line.amount?.text ?? "",
                    line.creditsSubtotal.decimalString, line.amountSubtotal.text, line.invoice ?? "",
                ]
            }
        )
    }
}
