import CreditsCore
import Foundation
import SQLKit

/// Billing profiles, purchases and invoice numbers. Each method is one transaction; a
/// purchase's credit, invoice number and audit entry are written together or not at all.
public struct BillingStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    // MARK: Profiles

    public func profile(_ organization: OrganizationID) async throws -> BillingProfile? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM billing_profiles WHERE organization_id = \(bind: organization.rawValue)")
                .first().map(BillingStore.profile)
        }
    }

    /// Writes the whole profile (created on first save) with its audit entry.
    public func save(_ profile: BillingProfile, audit: AuditRecord) async throws {
        try await database.transaction { sql in
            let method = profile.method
            try await sql.raw(
                """
                INSERT INTO billing_profiles (organization_id, gateway, customer_id, legal_name, tax_id, address, billing_email, method_token,
                    method_kind, method_brand, method_last4, method_exp_month, method_exp_year, updated_at)
                VALUES (\(bind: profile.organizationID.rawValue), \(bind: profile.gateway), \(bind: profile.customerID), \(bind: profile.legalName),
                    \(bind: profile.taxID), \(bind: profile.address), \(bind: profile.billingEmail), \(bind: method?.token), \(bind: method?.kind.rawValue),
                    \(bind: method?.brand), \(bind: method?.last4), \(bind: method?.expMonth), \(bind: method?.expYear),
                    \(bind: profile.updatedAt.milliseconds))
                ON CONFLICT (organization_id) DO UPDATE SET gateway = excluded.gateway, customer_id = excluded.customer_id,
                    legal_name = excluded.legal_name, tax_id = excluded.tax_id, address = excluded.address, billing_email = excluded.billing_email,
                    method_token = excluded.method_token, method_kind = excluded.method_kind, method_brand = excluded.method_brand,
                    method_last4 = excluded.method_last4, method_exp_month = excluded.method_exp_month, method_exp_year = excluded.method_exp_year,
                    updated_at = excluded.updated_at
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    static func profile(_ row: any SQLRow) throws -> BillingProfile {
        var method: PaymentMethodDetails?
        if let token: String = try row.optional("method_token") {
            method = PaymentMethodDetails(
                token: token,
                kind: PaymentMethodDetails.Kind(rawValue: try row.value("method_kind")) ?? .card,
                brand: try row.value("method_brand"),
                last4: try row.value("method_last4"),
                expMonth: try row.optional("method_exp_month"),
                expYear: try row.optional("method_exp_year")
            )
        }
        return BillingProfile(
            organizationID: OrganizationID(try row.value("organization_id")),
            gateway: try row.value("gateway"),
            customerID: try row.optional("customer_id"),
            legalName: try row.optional("legal_name"),
            taxID: try row.optional("tax_id"),
            address: try row.optional("address"),
            billingEmail: try row.optional("billing_email"),
            method: method,
            updatedAt: Date(milliseconds: try row.value("updated_at"))
        )
    }

    // MARK: Purchases

    /// Records a purchase as pending, or returns the one already recorded under its key. The
    /// purchase keeps the id of the request that made it (`RequestID.current`).
    public func begin(_ purchase: Purchase) async throws -> Purchase {
        let parties = String(decoding: try JSONEncoder().encode(purchase.parties), as: UTF8.self)
        return try await database.transaction { sql in
            let quote = purchase.quote
            try await sql.raw(
                """
                INSERT INTO purchases (id, organization_id, idempotency_key, fingerprint, account_id, kind, actor, actor_name, credits, country,
                    currency, unit_price, subtotal_cents, tax_name, tax_rate, tax_cents, total_cents, method_token, method_description, customer_id,
                    parties, status, created_at, next_check_at, description, period_start, period_end, lot_expires_at, request_id)
                VALUES (\(bind: purchase.id), \(bind: purchase.organizationID.rawValue), \(bind: purchase.idempotencyKey), \(bind: purchase.fingerprint),
                    \(bind: purchase.accountID.rawValue), \(bind: purchase.kind.rawValue), \(bind: purchase.actor.reference), \(bind: purchase.actor.name),
                    \(bind: quote.credits), \(bind: quote.country.rawValue), \(bind: quote.currency), \(bind: quote.unitPriceHundredthsOfCent),
                    \(bind: quote.subtotalCents), \(bind: quote.tax?.name), \(bind: quote.tax?.rateBasisPoints ?? 0), \(bind: quote.taxCents),
                    \(bind: quote.totalCents), \(bind: purchase.methodToken), \(bind: purchase.methodDescription), \(bind: purchase.customerID),
                    \(bind: parties), 'pending', \(bind: purchase.createdAt.milliseconds),
                    \(bind: PurchaseCheck.firstLook(startedAt: purchase.createdAt).milliseconds), \(bind: purchase.description),
                    \(bind: purchase.period?.start.milliseconds), \(bind: purchase.period?.end.milliseconds),
                    \(bind: purchase.lotExpiresAt?.milliseconds), \(bind: RequestID.current?.rawValue))
                ON CONFLICT (organization_id, idempotency_key) DO NOTHING
                """
            ).run()
            guard
                let stored = try await sql.raw(
                    """
                    SELECT * FROM purchases WHERE organization_id = \(bind: purchase.organizationID.rawValue)
                    AND idempotency_key = \(bind: purchase.idempotencyKey)
                    """
                ).first()
            else { throw StoreError.notFound("purchase") }
            return try BillingStore.purchase(stored)
        }
    }

    /// Reads a purchase in the caller's unit of work, locking it (and its organisation) so that
    /// two completions of it wait for each other; nil when there is no such purchase.
    public static func lock(_ purchaseID: String, in work: UnitOfWork) async throws -> Purchase? {
        let sql = work.sql
        guard let row = try await sql.raw("SELECT * FROM purchases WHERE id = \(bind: purchaseID)").first() else {
            return nil
        }
        let purchase = try BillingStore.purchase(row)
        try await work.database.lockOrganization(purchase.organizationID.rawValue, on: sql)
        let lock = work.dialect == .postgres ? " FOR UPDATE" : ""
        return try await sql.raw("SELECT * FROM purchases WHERE id = \(bind: purchaseID)\(unsafeRaw: lock)").first()
            .map(BillingStore.purchase)
    }

    /// Takes the next invoice number (server-wide, TC-000001 …) in the caller's unit of work.
    public static func nextInvoiceNumber(in work: UnitOfWork) async throws -> Int64 {
        let number = try await work.sql.raw(
            "UPDATE invoice_numbers SET last_number = last_number + 1 WHERE singleton = 1 RETURNING last_number"
        )
        .first().map { try $0.value("last_number", as: Int64.self) }
        guard let number else { throw StoreError.notFound("invoice number counter") }
        return number
    }

    /// Marks a pending purchase succeeded with its charge, the transfer that credited it (none
    /// for a fee that adds no credits) and its invoice number, in the caller's unit of work.
    public static func markSucceeded(
        _ purchaseID: String,
        chargeID: String,
        transfer: TransferID?,
        invoiceNumber: Int64,
        at instant: Date,
        in work: UnitOfWork
    ) async throws {
        try await work.sql.raw(
            """
            UPDATE purchases SET status = 'succeeded', charge_id = \(bind: chargeID), transfer_id = \(bind: transfer?.rawValue),
                invoice_number = \(bind: invoiceNumber), completed_at = \(bind: instant.milliseconds)
            WHERE id = \(bind: purchaseID) AND status = 'pending'
            """
        ).run()
    }

    /// Marks a pending purchase refused (nothing was charged or credited) with its audit entry.
    public func fail(
        _ purchaseID: String,
        code: String,
        message: String,
        at instant: Date,
        event: WebhookEvent? = nil,
        audit: AuditRecord
    ) async throws -> Purchase {
        try await database.transaction { sql in
            let changed = try await sql.raw(
                """
                UPDATE purchases SET status = 'failed', failure_code = \(bind: code), failure_message = \(bind: message),
                    completed_at = \(bind: instant.milliseconds)
                WHERE id = \(bind: purchaseID) AND status = 'pending' RETURNING id
                """
            ).all()
            if !changed.isEmpty {
                try await AuditStore.insert([audit], on: sql)
                try await WebhookStore.emit(event, on: sql)
            }
            guard let row = try await sql.raw("SELECT * FROM purchases WHERE id = \(bind: purchaseID)").first() else {
                throw StoreError.notFound("purchase")
            }
            return try BillingStore.purchase(row)
        }
    }

    /// Pending purchases due to be looked up at `instant` (longest due first).
    public func due(at instant: Date, limit: Int) async throws -> [Purchase] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM purchases WHERE status = 'pending' AND next_check_at <= \(bind: instant.milliseconds)
                ORDER BY next_check_at LIMIT \(bind: max(1, min(limit, 1000)))
                """
            ).all().map(BillingStore.purchase)
        }
    }

    /// A pending purchase stays pending: it is looked up again at `until`, and the gateway's id
    /// for its charge is kept once known. Returns it as stored.
    public func postpone(_ purchaseID: String, chargeID: String?, until: Date) async throws -> Purchase {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE purchases SET next_check_at = \(bind: until.milliseconds), charge_id = COALESCE(\(bind: chargeID), charge_id)
                WHERE id = \(bind: purchaseID) AND status = 'pending'
                """
            ).run()
            guard let row = try await sql.raw("SELECT * FROM purchases WHERE id = \(bind: purchaseID)").first() else {
                throw StoreError.notFound("purchase")
            }
            return try BillingStore.purchase(row)
        }
    }

    /// The latest purchase of a kind for the cycle starting at `periodStart` (a plan's fee, an
    /// add-on's, a month's platform fee), whatever its status.
    public func latest(_ kind: Purchase.Kind, of organization: OrganizationID, periodStart: Date) async throws
        -> Purchase?
    {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM purchases WHERE organization_id = \(bind: organization.rawValue) AND kind = \(bind: kind.rawValue)
                  AND period_start = \(bind: periodStart.milliseconds)
                ORDER BY created_at DESC, id DESC LIMIT 1
                """
            ).first().map(BillingStore.purchase)
        }
    }

    /// The purchase recorded under an idempotency key.
    public func purchase(key: String, of organization: OrganizationID) async throws -> Purchase? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM purchases WHERE organization_id = \(bind: organization.rawValue) AND idempotency_key = \(bind: key)
                """
            ).first().map(BillingStore.purchase)
        }
    }

    /// The latest purchase of a kind, whatever its cycle.
    public func latest(_ kind: Purchase.Kind, of organization: OrganizationID) async throws -> Purchase? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM purchases WHERE organization_id = \(bind: organization.rawValue) AND kind = \(bind: kind.rawValue)
                ORDER BY created_at DESC, id DESC LIMIT 1
                """
            ).first().map(BillingStore.purchase)
        }
    }

    public func purchase(_ id: String, of organization: OrganizationID) async throws -> Purchase? {
        try await database.read { sql in
            try await sql.raw(
                "SELECT * FROM purchases WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue)"
            )
            .first().map(BillingStore.purchase)
        }
    }

    /// An organisation's purchases, newest first; with `succeededOnly`, only those with an invoice.
    public func purchases(
        of organization: OrganizationID,
        succeededOnly: Bool,
        after cursor: RecencyCursor?,
        limit: Int
    ) async throws -> [Purchase] {
        try await database.read { sql in
            var query: SQLQueryString = "SELECT * FROM purchases WHERE organization_id = \(bind: organization.rawValue)"
            if succeededOnly { query += " AND status = 'succeeded'" }
            if let cursor { query += cursor.condition(instant: "created_at", id: "id") }
            query += " ORDER BY created_at DESC, id DESC LIMIT \(bind: max(1, min(limit, 500)))"
            return try await sql.raw(query).all().map(BillingStore.purchase)
        }
    }

    static func purchase(_ row: any SQLRow) throws -> Purchase {
        let taxName: String? = try row.optional("tax_name")
        let quote = Quote(
            credits: try row.value("credits"),
            country: Country(rawValue: try row.value("country")) ?? .us,
            currency: try row.value("currency"),
            unitPriceHundredthsOfCent: try row.value("unit_price"),
            subtotalCents: try row.value("subtotal_cents"),
            tax: try taxName.map { CreditPrices.Tax(name: $0, rateBasisPoints: try row.value("tax_rate")) },
            taxCents: try row.value("tax_cents"),
            totalCents: try row.value("total_cents")
        )
        var purchase = Purchase(
            id: try row.value("id"),
            organizationID: OrganizationID(try row.value("organization_id")),
            idempotencyKey: try row.value("idempotency_key"),
            fingerprint: try row.value("fingerprint"),
            accountID: AccountID(try row.value("account_id")),
            kind: Purchase.Kind(rawValue: try row.value("kind")) ?? .manual,
            actor: Actor(reference: try row.value("actor"), name: try row.value("actor_name")),
            quote: quote,
            methodToken: try row.value("method_token"),
            methodDescription: try row.value("method_description"),
            customerID: try row.optional("customer_id"),
            parties: try JSONDecoder().decode(
                InvoiceParties.self,
                from: Data(try row.value("parties", as: String.self).utf8)
            ),
            createdAt: Date(milliseconds: try row.value("created_at"))
        )
        purchase.status = Purchase.Status(rawValue: try row.value("status")) ?? .pending
        purchase.chargeID = try row.optional("charge_id")
        purchase.failureCode = try row.optional("failure_code")
        purchase.failureMessage = try row.optional("failure_message")
        purchase.transferID = try row.optional("transfer_id", as: String.self).map(TransferID.init)
        purchase.invoiceNumber = try row.optional("invoice_number")
        purchase.completedAt = try row.optionalDate("completed_at")
        purchase.nextCheckAt = try row.optionalDate("next_check_at")
        purchase.description = try row.optional("description")
        if let start = try row.optionalDate("period_start"), let end = try row.optionalDate("period_end"), end > start {
            purchase.period = DateInterval(start: start, end: end)
        }
        purchase.lotExpiresAt = try row.optionalDate("lot_expires_at")
        purchase.requestID = try row.optional("request_id")
        return purchase
    }

    // MARK: Sandbox gateway

    /// A charge attempt the Sandbox decided, as stored.
    public struct SandboxCharge: Sendable, Equatable {
        public var idempotencyKey: String
        public var amountCents: Int64
        public var paymentMethod: String
        public var chargeID: String?
        public var errorKind: String?
        public var errorCode: String?
        public var errorMessage: String?

        public init(
            idempotencyKey: String,
            amountCents: Int64,
            paymentMethod: String,
            chargeID: String?,
            errorKind: String?,
            errorCode: String?,
            errorMessage: String?
        ) {
            self.idempotencyKey = idempotencyKey
            self.amountCents = amountCents
            self.paymentMethod = paymentMethod
            self.chargeID = chargeID
            self.errorKind = errorKind
            self.errorCode = errorCode
            self.errorMessage = errorMessage
        }
    }

    /// Stores the attempt, or returns the one stored first under its key.
    public func recordSandboxCharge(_ charge: SandboxCharge, at instant: Date) async throws -> SandboxCharge {
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO sandbox_charges (idempotency_key, amount_cents, payment_method, charge_id, error_kind, error_code, error_message, created_at)
                VALUES (\(bind: charge.idempotencyKey), \(bind: charge.amountCents), \(bind: charge.paymentMethod), \(bind: charge.chargeID),
                    \(bind: charge.errorKind), \(bind: charge.errorCode), \(bind: charge.errorMessage), \(bind: instant.milliseconds))
                ON CONFLICT (idempotency_key) DO NOTHING
                """
            ).run()
            guard
                let row = try await sql.raw(
                    "SELECT * FROM sandbox_charges WHERE idempotency_key = \(bind: charge.idempotencyKey)"
                ).first()
            else {
                throw StoreError.notFound("sandbox charge")
            }
            return try BillingStore.sandboxCharge(row)
        }
    }

    /// The attempt stored under a key, if any.
    public func sandboxCharge(_ idempotencyKey: String) async throws -> SandboxCharge? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM sandbox_charges WHERE idempotency_key = \(bind: idempotencyKey)").first()
                .map(BillingStore.sandboxCharge)
        }
    }

    static func sandboxCharge(_ row: any SQLRow) throws -> SandboxCharge {
        SandboxCharge(
            idempotencyKey: try row.value("idempotency_key"),
            amountCents: try row.value("amount_cents"),
            paymentMethod: try row.value("payment_method"),
            chargeID: try row.optional("charge_id"),
            errorKind: try row.optional("error_kind"),
            errorCode: try row.optional("error_code"),
            errorMessage: try row.optional("error_message")
        )
    }

    /// How many charges the Sandbox has taken (for tests and the operator).
    public func sandboxChargeCount(succeeded: Bool) async throws -> Int {
        try await database.read { sql in
            try await sql.raw(
                "SELECT COUNT(*) AS n FROM sandbox_charges WHERE charge_id IS \(unsafeRaw: succeeded ? "NOT " : "")NULL"
            )
            .first().map { try $0.value("n", as: Int.self) } ?? 0
        }
    }
}

extension Actor {
    /// Rebuilds an actor from its stored reference ("staff:ID", "api_key:ID", "system").
    init(reference: String, name: String) {
        let parts = reference.split(separator: ":", maxSplits: 1).map(String.init)
        let kind = ActorKind(rawValue: parts.first ?? "") ?? .system
        self.init(kind: kind, id: parts.count == 2 ? parts[1] : nil, name: name)
    }
}

/// One credit movement on the billing statement: anything but spending on messages.
public struct BillingMovement: Sendable, Equatable {
    public var entryID: Int64
    public var at: Date
    /// Where the credits came from and went to, by account kind and id.
    public var fromKind: AccountKind
    public var fromAccount: AccountID
    public var toKind: AccountKind
    public var toAccount: AccountID
    public var amount: Credits
    /// Each side's balance after the movement.
    public var fromBalanceAfter: Credits = .zero
    public var toBalanceAfter: Credits = .zero
    public var memo: String
    /// The purchase behind a deposit from `purchases`, with what was paid.
    public var purchaseID: String?
    public var purchaseKind: Purchase.Kind?
    public var paidCents: Int64?
    public var invoiceNumber: Int64?
}

extension BillingStore {
    /// Most movements one statement holds.
    public static let statementRowsMax = 10_000

    /// Purchases, auto-renewals, plan grants, adjustments, transfers between the pool and
    /// wallets, and expiries — oldest first — in `since..<until`.
    public func movements(
        of organization: OrganizationID,
        since: Date?,
        until: Date?,
        afterEntry: Int64? = nil,
        limit: Int = BillingStore.statementRowsMax
    ) async throws -> [BillingMovement] {
        try await database.read { sql in
            var query: SQLQueryString = """
                SELECT e.id, e.created_at, e.debit_kind, e.debit_account_id, e.credit_kind, e.credit_account_id, e.amount, t.memo,
                       e.debit_balance_after, e.credit_balance_after,
                       p.id AS purchase_id, p.kind AS purchase_kind, p.total_cents, p.invoice_number
                FROM ledger_entries e JOIN ledger_transfers t ON t.id = e.transfer_id
                LEFT JOIN purchases p ON p.transfer_id = e.transfer_id
                WHERE e.organization_id = \(bind: organization.rawValue)
                  AND (e.debit_kind IN ('purchases', 'plan_grants', 'adjustments') OR e.credit_kind IN ('expired', 'adjustments')
                       OR (e.debit_kind IN ('pool', 'wallet') AND e.credit_kind IN ('pool', 'wallet')))
                """
            if let since { query += " AND e.created_at >= \(bind: since.milliseconds)" }
            if let until { query += " AND e.created_at < \(bind: until.milliseconds)" }
            if let afterEntry { query += " AND e.id > \(bind: afterEntry)" }
            query += " ORDER BY e.id LIMIT \(bind: max(1, min(limit, BillingStore.statementRowsMax)))"
            return try await sql.raw(query).all().map { row in
                var movement = BillingMovement(
                    entryID: try row.value("id"),
                    at: Date(milliseconds: try row.value("created_at")),
                    fromKind: AccountKind(rawValue: try row.value("debit_kind")) ?? .adjustments,
                    fromAccount: AccountID(try row.value("debit_account_id")),
                    toKind: AccountKind(rawValue: try row.value("credit_kind")) ?? .adjustments,
                    toAccount: AccountID(try row.value("credit_account_id")),
                    amount: Credits(milli: try row.value("amount")),
                    memo: try row.value("memo"),
                    purchaseID: try row.optional("purchase_id"),
                    purchaseKind: try row.optional("purchase_kind", as: String.self).flatMap(
                        Purchase.Kind.init(rawValue:)
                    ),
                    paidCents: try row.optional("total_cents"),
                    invoiceNumber: try row.optional("invoice_number")
                )
                movement.fromBalanceAfter = Credits(milli: try row.value("debit_balance_after"))
                movement.toBalanceAfter = Credits(milli: try row.value("credit_balance_after"))
                return movement
            }
        }
    }
}
