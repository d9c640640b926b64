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
        table.add(.put, "/v1/organization/credit-mode", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(CreditModeInput.self, from: request)
            return try JSONOutput.response(try await credits.setCreditMode(principal, input))
        }
        table.add(.get, "/v1/credits/entries", through: group) { request, context in
            let principal = try context.authenticated()
            let now = now()
            let since = try QueryValues.instant(request.query("since"), field: "since", now: now)
            let until = try QueryValues.instant(request.query("until"), field: "until", now: now)
            // Checked whatever the format: a CSV has every line, so it does not use them.
            let limit = try QueryValues.limit(request.query("limit"), fallback: 200)
            let cursor = try QueryValues.numericCursor(request.query("cursor"))
            guard let wallet = request.query("wallet") else {
                // Every account the principal may manage, in one list (the last-30-days log).
                if try request.wantsCSV() {
                    _ = try await credits.combinedStatement(
                        principal,
                        only: nil,
                        since: since,
                        until: until,
                        afterID: nil,
                        limit: 1
                    )
                    return try await StatementCSV.downloadCombined(
                        filename: "credits-log-\(principal.organizationID).csv"
                    ) {
                        last in
                        try await credits.combinedStatement(
                            principal,
                            only: nil,
                            since: since,
                            until: until,
                            afterID: last?.id,
                            limit: CreditService.statementPageMax
                        )
                    }
                }
                let lines = try await credits.combinedStatement(
                    principal,
                    only: nil,
                    since: since,
                    until: until,
                    afterID: cursor,
                    limit: limit
                )
                let entries = Set(lines.map(\.id)).count
                return try JSONOutput.response(
                    Page(data: lines, nextCursor: entries == limit ? lines.last.map { String($0.id) } : nil)
                )
            }
            if try request.wantsCSV() {
                let (account, _) = try await credits.statement(
                    principal,
                    account: wallet,
                    since: since,
                    until: until,
                    afterID: nil,
                    limit: 1
                )
                return try await StatementCSV.download(filename: "credits-\(account.kind.rawValue)-\(account.id).csv") {
                    last in
                    try await credits.statement(
                        principal,
                        account: wallet,
                        since: since,
                        until: until,
                        afterID: last?.id,
                        limit: CreditService.statementPageMax
                    ).lines
                }
            }
            let (_, lines) = try await credits.statement(
                principal,
                account: wallet,
                since: since,
                until: until,
                afterID: cursor,
                limit: limit
            )
            return try JSONOutput.response(
                Page(data: lines, nextCursor: lines.count == limit ? lines.last.map { String($0.id) } : nil)
            )
        }
        table.add(.post, "/v1/estimate", through: group) { request, context in
            try await CreditRoutes.estimate(request, context, prices: prices)
        }
        table.add(.get, "/v1/audit-log", through: group) { request, context in
            let principal = try context.authenticated()
            let query = try CreditRoutes.auditQuery(request, now: now())
            let limit = try QueryValues.limit(request.query("limit"))
            if try request.wantsCSV() {
                return try await AuditCSV.download(filename: "audit-log.csv") { last in
                    var page = query
                    page.afterID = last?.id ?? query.afterID
                    page.limit = AuditLog.pageMax
                    return try await auditLog.entries(principal, page)
                }
            }
            var page = query
            page.limit = limit
            let entries = try await auditLog.entries(principal, page)
            return try JSONOutput.response(
                Page(data: entries, nextCursor: entries.count == limit ? entries.last.map { String($0.id) } : nil)
            )
        }
    }
}

extension CreditRoutes {
    /// The audit entries a request's filters select (`since`, `until`, `action`, `actor`, `subject`, `cursor`).
    static func auditQuery(_ request: Request, now: Date) throws -> AuditQuery {
        AuditQuery(
            since: try QueryValues.instant(request.query("since"), field: "since", now: now),
            until: try QueryValues.instant(request.query("until"), field: "until", now: now),
            action: request.query("action"),
            actorID: request.query("actor"),
            subjectID: request.query("subject"),
            afterID: try QueryValues.numericCursor(request.query("cursor"))
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

/// The statement as CSV (the seeds' "Download CSV" of the last 30 days log), every line of it.
public enum StatementCSV {
    static let header = ["time", "operation", "description", "credits", "balance", "counterparty", "reference", "by"]

    static func row(_ line: StatementLine) -> [String] {
        [
            line.at.formatted(.iso8601), line.operation, line.memo, line.amount.decimalString,
            line.balanceAfter.decimalString,
            line.counterpartyKind.rawValue, line.reference ?? "", line.actor,
        ]
    }

    public static func document(_ lines: [StatementLine]) -> String {
        CSV.document(header: header, rows: lines.map(row))
    }

    static func download(filename: String, page: @escaping @Sendable (StatementLine?) async throws -> [StatementLine])
        async throws
        -> Response
    {
        try await CSVDownload(filename: filename, header: header, row: row, page: page).response()
    }

    /// The log of several accounts: each line names its account first.
    static let combinedHeader = ["time", "account"] + header.dropFirst()

    static func combinedRow(_ line: StatementLine) -> [String] {
        var cells = row(line)
        cells.insert(line.accountName ?? line.account ?? "", at: 1)
        return cells
    }

    public static func combinedDocument(_ lines: [StatementLine]) -> String {
        CSV.document(header: combinedHeader, rows: lines.map(combinedRow))
    }

    static func downloadCombined(
        filename: String,
        page: @escaping @Sendable (StatementLine?) async throws -> [StatementLine]
    ) async throws -> Response {
        try await CSVDownload(filename: filename, header: combinedHeader, row: combinedRow, page: page).response()
    }
}

/// The audit log as CSV, every entry the filters select.
public enum AuditCSV {
    static let header = ["time", "actor", "actor_type", "action", "message"]

    static func row(_ entry: AuditEntry) -> [String] {
        [entry.at.formatted(.iso8601), entry.actorName, entry.actorType.rawValue, entry.action, entry.message]
    }

    public static func document(_ entries: [AuditEntry]) -> String {
        CSV.document(header: header, rows: entries.map(row))
    }

    static func download(filename: String, page: @escaping @Sendable (AuditEntry?) async throws -> [AuditEntry])
        async throws
        -> Response
    {
        try await CSVDownload(filename: filename, header: header, row: row, page: page).response()
    }
}

/// The billing statement as CSV, every line of it with its running subtotals.
public enum BillingStatementCSV {
    static let header = [
        "time", "type", "description", "wallet", "credits", "amount", "credits_subtotal", "amount_subtotal", "invoice",
    ]

    static func row(_ line: BillingTransactionView) -> [String] {
        [
            line.at.formatted(.iso8601), line.type, line.description, line.wallet, line.credits.decimalString,
            line.amount?.text ?? "", line.creditsSubtotal.decimalString, line.amountSubtotal.text, line.invoice ?? "",
        ]
    }

    public static func document(_ lines: [BillingTransactionView]) -> String {
        CSV.document(header: header, rows: lines.map(row))
    }

    static func download(
        filename: String,
        page: @escaping @Sendable (BillingTransactionView?) async throws -> [BillingTransactionView]
    ) async throws -> Response {
        try await CSVDownload(filename: filename, header: header, row: row, page: page).response()
    }
}
