import CreditsCore
import CreditsStore
import Foundation
import Logging

/// Plans an organisation subscribes to from the operator's catalogue: each cycle's fee charged
/// through the gateway with an invoice, the cycle's plan (NRO) credits added by that same paid
/// purchase and expiring at the cycle end, upgrades at once (prorated), downgrades and
/// cancellations at the cycle end, the rollover-protection add-on, and the country's monthly
/// platform fee (AU). A declined renewal leaves the subscription past due (audited, a banner)
/// and is retried when the payment method changes, as a declined auto-renew is.
public struct SubscriptionService: Sendable {
    let plans: PlanStore
    let catalogue: PlanCatalogueStore
    let billing: BillingService
    let billingStore: BillingStore
    let numbers: NumberStore
    let organizations: OrganizationStore
    let database: any Database
    let creditPrices: CreditPrices
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        plans: PlanStore,
        catalogue: PlanCatalogueStore,
        billing: BillingService,
        billingStore: BillingStore,
        numbers: NumberStore,
        organizations: OrganizationStore,
        database: any Database,
        creditPrices: CreditPrices,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.plans = plans
        self.catalogue = catalogue
        self.billing = billing
        self.billingStore = billingStore
        self.numbers = numbers
        self.organizations = organizations
        self.database = database
        self.creditPrices = creditPrices
        self.now = now
        self.logger = logger
    }

    // MARK: Catalogue

    /// `textcredits plans define`, and each plan of the catalogue file at start.
    public func define(_ plan: CataloguePlan) async throws {
        if let reason = CataloguePlan.check(
            id: plan.id,
            name: plan.name,
            creditsPerMonth: plan.creditsPerMonth,
            prices: plan.prices
        ) {
            throw SubscriptionError.catalogueInvalid(reason)
        }
        try await catalogue.define(plan, at: now())
    }

    /// Every catalogue plan, retired ones included (the operator's list).
    public func allPlans() async throws -> [CataloguePlan] { try await catalogue.plans(activeOnly: false) }

    /// `GET /v1/plans`: the plans on offer in the organisation's country.
    public func offered(_ principal: Principal) async throws -> [CataloguePlanView] {
        try await catalogue.plans(activeOnly: true).compactMap { view($0, country: principal.organization.country) }
    }

    func view(_ plan: CataloguePlan, country: Country) -> CataloguePlanView? {
        guard let prices = plan.prices[country] else { return nil }
        let currency = creditPrices.currency
        let cycles: [CataloguePlanView.CycleView] = BillingCycle.allCases.compactMap { cycle in
            guard let cents = prices.cents(for: cycle),
                let quote = try? creditPrices.feeQuote(cents: cents, credits: 0, country: country)
            else { return nil }
            return .init(
                cycle: cycle.rawValue,
                credits: plan.credits(for: cycle),
                price: MoneyView(cents, currency: currency),
                total: MoneyView(quote.totalCents, currency: currency)
            )
        }
        guard !cycles.isEmpty else { return nil }
        let tax = creditPrices.terms[country]?.tax.map { "\($0.name) \(QuoteView.percent($0.rateBasisPoints))" }
        return CataloguePlanView(
            id: plan.id,
            name: plan.name,
            creditsPerMonth: plan.creditsPerMonth,
            includesRolloverProtection: plan.includesRolloverProtection,
            cycles: cycles,
            rolloverProtectionMonthly: plan.includesRolloverProtection
                ? nil : prices.rolloverProtectionMonthlyCents.map { MoneyView($0, currency: currency) },
            tax: tax
        )
    }

    // MARK: The subscription

    /// `GET /v1/billing/subscription`: nil when the organisation has no subscription.
    public func view(_ principal: Principal) async throws -> SubscriptionView? {
        guard let plan = try await plans.plan(principal.organizationID), plan.catalogueID != nil else { return nil }
        return try await view(plan, organization: principal.organization)
    }

    func view(_ plan: Plan, organization: Organization) async throws -> SubscriptionView {
        let entry = try await plan.catalogueID.asyncMap { try await catalogue.plan($0) } ?? nil
        let currency = creditPrices.currency
        let period = currentPeriod(plan, zone: organization.zone)
        let prices = entry?.prices[organization.country]
        var next: SubscriptionView.ChangeView?
        if let id = plan.nextCatalogueID, let period {
            let name = try await catalogue.plan(id)?.name ?? id
            next = .init(plan: id, planName: name, cycle: (plan.nextCycle ?? plan.cycle).rawValue, at: period.end)
        }
        let active = plan.active && plan.status != .cancelled
        return SubscriptionView(
            plan: plan.catalogueID ?? "",
            planName: plan.name,
            cycle: plan.cycle.rawValue,
            status: active ? plan.status.rawValue : Plan.Status.cancelled.rawValue,
            credits: plan.credits,
            price: prices?.cents(for: plan.cycle).map { MoneyView($0, currency: currency) },
            currentPeriod: active ? period.map { .init(start: $0.start, end: $0.end) } : nil,
            renewsAt: active && !plan.cancelAtPeriodEnd ? period?.end : nil,
            endsAt: active && plan.cancelAtPeriodEnd ? period?.end : nil,
            scheduledChange: active ? next : nil,
            rolloverProtection: entry?.includesRolloverProtection == true
                ? "included" : plan.rolloverAddon && active ? "add_on" : "none",
            rolloverProtectionPrice: entry?.includesRolloverProtection == true
                ? nil
                : prices?.rolloverProtectionCents(for: plan.cycle).map { MoneyView($0, currency: currency) }
        )
    }

    /// The cycle running now.
    func currentPeriod(_ plan: Plan, zone: TimeZone) -> DateInterval? {
        PlanCycles.periods(startingAt: plan.startsAt, yearly: plan.cycle == .yearly, timeZone: zone, through: now())
            .last
    }

    /// `PUT /v1/billing/subscription`: subscribe, upgrade (at once), downgrade or change cycle
    /// (at the cycle end), or take back a cancellation or a scheduled change.
    public func subscribe(_ principal: Principal, _ input: SubscriptionInput) async throws -> SubscriptionView {
        try principal.require(.purchaseCredits)
        let organization = principal.organization
        guard organization.markedSpamAt == nil else { throw SubscriptionError.markedSpam }
        guard let entry = try await catalogue.plan(input.plan), entry.active else {
            throw SubscriptionError.unknownPlan(input.plan)
        }
        let cycleName = input.cycle ?? BillingCycle.monthly.rawValue
        guard let cycle = BillingCycle(rawValue: cycleName) else { throw SubscriptionError.unknownCycle(cycleName) }
        guard let price = entry.cents(for: cycle, in: organization.country) else {
            throw SubscriptionError.cycleNotOffered(plan: entry.name, cycle: cycle)
        }
        let current = try await plans.plan(organization.id)
        guard var plan = current, plan.active, plan.status != .cancelled, let currentID = plan.catalogueID,
            let period = currentPeriod(plan, zone: organization.zone)
        else {
            // A new subscription (an operator-set plan is replaced by it).
            return try await start(entry, cycle: cycle, price: price, principal: principal, upgradingFrom: nil)
        }
        if currentID == entry.id && plan.cycle == cycle {
            if plan.status == .pastDue {
                _ = try await retryRenewal(plan, organization: organization, actor: principal.actor)
            } else if plan.cancelAtPeriodEnd || plan.nextCatalogueID != nil {
                plan.cancelAtPeriodEnd = false
                plan.nextCatalogueID = nil
                plan.nextCycle = nil
                try await save(
                    plan,
                    audit: audit(
                        principal,
                        .subscriptionChanged,
                        "The \(entry.name) plan (\(cycle.rawValue)) carries on: the scheduled change or cancellation was taken back."
                    )
                )
            }
            return try await view(try await plans.plan(organization.id) ?? plan, organization: organization)
        }
        let currentEntry = try await catalogue.plan(currentID)
        let currentMonthly = currentEntry?.monthlyEquivalentCents(for: plan.cycle, in: organization.country) ?? 0
        let newMonthly = entry.monthlyEquivalentCents(for: cycle, in: organization.country) ?? 0
        let isUpgrade =
            cycle.months >= plan.cycle.months
            && (newMonthly > currentMonthly || (entry.id == currentID && cycle.months > plan.cycle.months))
        if isUpgrade {
            return try await start(
                entry,
                cycle: cycle,
                price: price,
                principal: principal,
                upgradingFrom: (plan, period)
            )
        }
        plan.nextCatalogueID = entry.id
        plan.nextCycle = cycle
        plan.cancelAtPeriodEnd = false
        try await save(
            plan,
            audit: audit(
                principal,
                .subscriptionChanged,
                "Plan change scheduled: from \(plan.name) (\(plan.cycle.rawValue)) to \(entry.name) (\(cycle.rawValue)) at the end of the cycle, \(Self.day(period.end, organization.zone))."
            )
        )
        return try await view(plan, organization: organization)
    }

    /// Starts a subscription now, or an upgrade now: the new cycle begins today, its fee is
    /// charged (less the unused share of the cycle left, for an upgrade) and its plan credits
    /// are added by the paid purchase. Nothing changes when the charge is declined.
    func start(
        _ entry: CataloguePlan,
        cycle: BillingCycle,
        price: Int64,
        principal: Principal,
        upgradingFrom old: (plan: Plan, period: DateInterval)?
    ) async throws -> SubscriptionView {
        let organization = principal.organization
        let instant = now()
        guard
            let period = PlanCycles.periods(
                startingAt: instant,
                yearly: cycle == .yearly,
                timeZone: organization.zone,
                through: instant
            ).last
        else { throw SubscriptionError.noSubscription }
        // The unused share of the cycle left, at its plan's catalogue price (not what was paid
        // for it, which an earlier upgrade may have reduced).
        var credit: Int64 = 0
        if let old, let paid = try await billingStore.latest(.plan, of: organization.id, periodStart: old.period.start),
            paid.status == .succeeded, let oldID = old.plan.catalogueID,
            let oldPrice = try await catalogue.plan(oldID)?.cents(for: old.plan.cycle, in: organization.country)
        {
            credit = Proration.unusedCents(paidCents: oldPrice, period: old.period, at: instant)
        }
        let cents = max(1, price - credit)
        let carriesAddon = !entry.includesRolloverProtection && (old?.plan.rolloverAddon ?? false)
        let grant = entry.credits(for: cycle)
        var description = "\(entry.name) plan, \(cycle.rawValue): \(Self.span(period, organization.zone))"
        if let old, credit > 0 {
            description +=
                " (upgrade from \(old.plan.name), less \(Money.format(cents: credit)) unused of the cycle left)"
        }
        // The key names the card: a declined attempt is tried again with a new one. A repeat after
        // a charge that went through (its answer lost, or the plan not saved) finds that purchase.
        let method = try await billingStore.profile(organization.id)?.method
        let key = "subscription:\(period.start.milliseconds):\(entry.id):\(cycle.rawValue):\(method?.token ?? "none")"
        let purchase: Purchase
        if let earlier = try await billingStore.purchase(key: key, of: organization.id), earlier.status != .failed {
            purchase = earlier
        } else {
            purchase = try await charge(
                .plan,
                cents: cents,
                credits: grant,
                description: description,
                period: period,
                lotExpiresAt: entry.includesRolloverProtection ? nil : period.end,
                organization: organization,
                actor: principal.actor,
                key: key,
                email: principal.staff.email
            )
        }
        if purchase.status == .failed {
            throw PurchaseError.declined(
                code: purchase.failureCode ?? "payment_declined",
                reason: purchase.failureMessage ?? "no reason given"
            )
        }
        // Rollover protection carried into the new cycle is charged for it; declined, it stops.
        var addonPaid = false
        if carriesAddon, let addon = entry.prices[organization.country]?.rolloverProtectionCents(for: cycle) {
            let charged = try? await chargeAddon(
                addon,
                cycle: cycle,
                period: period,
                organization: organization,
                actor: principal.actor
            )
            addonPaid = charged?.status == .succeeded || charged?.status == .pending
        }
        let rollover = entry.includesRolloverProtection || addonPaid
        var plan = Plan(
            organizationID: organization.id,
            name: entry.name,
            credits: grant,
            cycle: cycle,
            rolloverProtection: rollover,
            startsAt: instant,
            active: true,
            updatedAt: instant
        )
        plan.catalogueID = entry.id
        plan.rolloverAddon = addonPaid
        plan.renewedPeriod = period.start
        let message =
            old.map {
                "Plan upgraded from \($0.plan.name) (\($0.plan.cycle.rawValue)) to \(entry.name) (\(cycle.rawValue)): \(grant) plan credits now, renewing \(Self.day(period.end, organization.zone))."
            }
            ?? "Subscribed to the \(entry.name) plan (\(cycle.rawValue)): \(grant) plan credits each \(cycle.noun), renewing \(Self.day(period.end, organization.zone))."
        let record = audit(principal, old == nil ? .subscriptionStarted : .subscriptionChanged, message)
        let oldLotsEnd = old?.period.end
        let keepOld = old?.plan.rolloverProtection ?? true
        let paidAt = purchase.createdAt
        let saved = plan
        try await database.unitOfWork { work in
            if purchase.status == .succeeded, !keepOld, oldLotsEnd != nil {
                // The cycle left ended: its unused plan credits were given back as money.
                try await PlanStore.expirePlanLots(organization.id, at: instant, createdBefore: paidAt, in: work)
            }
            try await PlanStore.save(saved, now: instant, audits: [record], in: work)
        }
        if purchase.status == .pending { throw PurchaseError.unconfirmed(purchaseID: purchase.id) }
        return try await view(plan, organization: organization)
    }

    /// `DELETE /v1/billing/subscription`: the subscription ends at the end of the cycle (plan
    /// credits of the cycle last until then; purchased credits stay for good).
    public func cancel(_ principal: Principal) async throws -> SubscriptionView {
        try principal.require(.purchaseCredits)
        guard var plan = try await plans.plan(principal.organizationID), plan.catalogueID != nil, plan.active,
            let period = currentPeriod(plan, zone: principal.organization.zone)
        else { throw SubscriptionError.noSubscription }
        if !plan.cancelAtPeriodEnd {
            plan.cancelAtPeriodEnd = true
            plan.nextCatalogueID = nil
            plan.nextCycle = nil
            try await save(
                plan,
                audit: audit(
                    principal,
                    .subscriptionCancelled,
                    "Subscription to the \(plan.name) plan cancelled: it ends \(Self.day(period.end, principal.organization.zone)); purchased (FRO) credits never expire and stay."
                )
            )
        }
        return try await view(plan, organization: principal.organization)
    }

    // MARK: Rollover protection

    /// `PUT /v1/billing/rollover-protection`: the add-on is charged for the running cycle (in
    /// full: it protects the credits of the whole cycle) and each renewal; plan credits not yet
    /// expired stop expiring at once.
    public func startRolloverProtection(_ principal: Principal) async throws -> SubscriptionView {
        try principal.require(.purchaseCredits)
        let organization = principal.organization
        guard var plan = try await plans.plan(organization.id), let id = plan.catalogueID, plan.active,
            plan.status != .cancelled, let period = currentPeriod(plan, zone: organization.zone)
        else { throw SubscriptionError.noSubscription }
        guard let entry = try await catalogue.plan(id) else { throw SubscriptionError.unknownPlan(id) }
        guard !entry.includesRolloverProtection else { throw SubscriptionError.protectionIncluded(plan: entry.name) }
        guard !plan.rolloverAddon else { return try await view(plan, organization: organization) }
        guard let cents = entry.prices[organization.country]?.rolloverProtectionCents(for: plan.cycle) else {
            throw SubscriptionError.protectionNotOffered(plan: entry.name)
        }
        let purchase = try await chargeAddon(
            cents,
            cycle: plan.cycle,
            period: period,
            organization: organization,
            actor: principal.actor
        )
        guard purchase.status != .failed else {
            throw PurchaseError.declined(
                code: purchase.failureCode ?? "payment_declined",
                reason: purchase.failureMessage ?? "no reason given"
            )
        }
        plan.rolloverAddon = true
        plan.rolloverProtection = true
        plan.updatedAt = now()
        try await save(
            plan,
            audit: audit(
                principal,
                .rolloverProtectionStarted,
                "Rollover protection started: plan credits, including those already granted, never expire while it runs."
            )
        )
        return try await view(plan, organization: organization)
    }

    /// `DELETE /v1/billing/rollover-protection`: stops now; plan credits granted while it ran
    /// keep never expiring (they were paid for), later cycles' credits expire again.
    public func stopRolloverProtection(_ principal: Principal) async throws -> SubscriptionView {
        try principal.require(.purchaseCredits)
        guard var plan = try await plans.plan(principal.organizationID), let id = plan.catalogueID, plan.active else {
            throw SubscriptionError.noSubscription
        }
        let entry = try await catalogue.plan(id)
        if entry?.includesRolloverProtection == true {
            throw SubscriptionError.protectionIncluded(plan: entry?.name ?? plan.name)
        }
        if plan.rolloverAddon {
            plan.rolloverAddon = false
            plan.rolloverProtection = false
            plan.updatedAt = now()
            try await save(
                plan,
                audit: audit(
                    principal,
                    .rolloverProtectionStopped,
                    "Rollover protection stopped: plan credits granted from the next cycle expire at its end; those granted while it ran never expire."
                )
            )
        }
        return try await view(plan, organization: principal.organization)
    }

    /// The add-on's fee for one cycle, charged once per cycle whatever the stops and starts
    /// (a cycle already paid for is not charged again); a declined card is tried again when it
    /// changes (the key names it).
    func chargeAddon(
        _ cents: Int64,
        cycle: BillingCycle,
        period: DateInterval,
        organization: Organization,
        actor: Actor
    ) async throws -> Purchase {
        if let paid = try await billingStore.latest(
            .rolloverProtection,
            of: organization.id,
            periodStart: period.start
        ),
            paid.status != .failed
        {
            return paid
        }
        let method = try await billingStore.profile(organization.id)?.method
        return try await charge(
            .rolloverProtection,
            cents: cents,
            credits: 0,
            description: "Rollover protection, \(cycle.rawValue): \(Self.span(period, organization.zone))",
            period: period,
            lotExpiresAt: nil,
            organization: organization,
            actor: actor,
            key: "rollover-protection:\(period.start.milliseconds):\(method?.token ?? "none")"
        )
    }

    // MARK: Renewals

    /// Renews every subscription whose new cycle has begun, at most `limit` a pass (a background
    /// job): a cancellation ends it, a scheduled change takes effect, then the cycle's fee (and
    /// the add-on's) is charged and the plan credits added. Returns how many it handled.
    @discardableResult
    public func runRenewals(limit: Int = 100) async throws -> Int {
        var handled = 0
        for plan in try await plans.subscriptions() where plan.status != .cancelled {
            guard handled < limit, let organization = try await organizations.organization(plan.organizationID),
                let period = currentPeriod(plan, zone: organization.zone),
                period.start > (plan.renewedPeriod ?? .distantPast)
            else { continue }
            try await renew(plan, period: period, organization: organization)
            handled += 1
        }
        return handled
    }

    func renew(_ plan: Plan, period: DateInterval, organization: Organization) async throws {
        var plan = plan
        let instant = now()
        if plan.cancelAtPeriodEnd || organization.markedSpamAt != nil {
            plan.active = false
            plan.status = .cancelled
            plan.renewedPeriod = period.start
            plan.updatedAt = instant
            try await save(
                plan,
                audit: systemAudit(
                    organization.id,
                    .subscriptionCancelled,
                    "The \(plan.name) plan ended at the end of its cycle; purchased (FRO) credits stay."
                )
            )
            return
        }
        var period = period
        if let next = plan.nextCatalogueID, let entry = try await catalogue.plan(next) {
            let cycle = plan.nextCycle ?? plan.cycle
            let from = "\(plan.name) (\(plan.cycle.rawValue))"
            plan.catalogueID = entry.id
            plan.name = entry.name
            plan.cycle = cycle
            plan.credits = entry.credits(for: cycle)
            plan.rolloverProtection = entry.includesRolloverProtection || plan.rolloverAddon
            if entry.includesRolloverProtection { plan.rolloverAddon = false }
            plan.nextCatalogueID = nil
            plan.nextCycle = nil
            // The new cycle starts where the old one ended (a yearly cycle counts from here).
            plan.startsAt = period.start
            period = currentPeriod(plan, zone: organization.zone) ?? period
            try await save(
                plan,
                audit: systemAudit(
                    organization.id,
                    .subscriptionChanged,
                    "Plan changed at the cycle end from \(from) to \(entry.name) (\(cycle.rawValue))."
                )
            )
        }
        try await chargeRenewal(plan, period: period, organization: organization, actor: .system, attempt: nil)
    }

    /// Charges a cycle's fee (and the add-on's) and records the outcome on the subscription.
    /// Returns whether the plan's fee was paid.
    @discardableResult
    func chargeRenewal(
        _ plan: Plan,
        period: DateInterval,
        organization: Organization,
        actor: Actor,
        attempt: String?
    ) async throws -> Bool {
        var plan = plan
        let instant = now()
        guard let id = plan.catalogueID, let entry = try await catalogue.plan(id),
            let cents = entry.cents(for: plan.cycle, in: organization.country)
        else {
            // The operator removed the plan's price here: the subscription ends (recorded, so it
            // is not tried again every second).
            plan.active = false
            plan.status = .cancelled
            plan.renewedPeriod = period.start
            plan.updatedAt = instant
            _ = try await saveRenewal(
                plan,
                period: period,
                audits: [
                    systemAudit(
                        organization.id,
                        .subscriptionCancelled,
                        "The \(plan.name) plan (\(plan.cycle.rawValue)) is no longer offered in your country, so it ended instead of renewing; purchased (FRO) credits stay."
                    )
                ]
            )
            return false
        }
        let suffix = attempt.map { ":\($0)" } ?? ""
        let purchase: Purchase?
        let refusal: String?
        do {
            // Plan credits are made expiring; the add-on, once paid, lifts the expiry when the
            // subscription is saved (so a declined add-on leaves them expiring).
            purchase = try await charge(
                .plan,
                cents: cents,
                credits: plan.credits,
                description: "\(plan.name) plan, \(plan.cycle.rawValue): \(Self.span(period, organization.zone))",
                period: period,
                lotExpiresAt: entry.includesRolloverProtection ? nil : period.end,
                organization: organization,
                actor: actor,
                key: "renewal:\(period.start.milliseconds)\(suffix)"
            )
            refusal = purchase?.failureMessage
        } catch let error as PurchaseError {
            purchase = nil
            refusal = error == .paymentMethodRequired(.fee) ? nil : error.message
        }
        let paid = purchase?.status == .succeeded
        plan.renewedPeriod = period.start
        plan.updatedAt = instant
        var records: [AuditRecord] = []
        switch purchase?.status {
        case .succeeded:
            plan.status = .active
            records.append(
                systemAudit(
                    organization.id,
                    .subscriptionRenewed,
                    "The \(plan.name) plan renewed for \(Self.span(period, organization.zone))."
                )
            )
        case .pending:
            // Its outcome, found later, sets the standing (`handle(.purchaseFinished)`).
            records.append(
                systemAudit(
                    organization.id,
                    .subscriptionRenewed,
                    "The \(plan.name) plan's renewal for \(Self.span(period, organization.zone)) is being confirmed by the payment gateway; its plan credits are added when it is."
                )
            )
        case .failed, nil:
            plan.status = .pastDue
            records.append(
                systemAudit(
                    organization.id,
                    .subscriptionDeclined,
                    refusal.map {
                        "The \(plan.name) plan's renewal was declined (\($0)); no plan credits were added. Update the payment method under billing: the charge is retried."
                    }
                        ?? "The \(plan.name) plan could not be renewed: there is no payment method on file, so no plan credits were added. Add one under billing: the charge is made then."
                )
            )
        }
        if plan.rolloverAddon, paid || purchase?.status == .pending,
            let addon = entry.prices[organization.country]?.rolloverProtectionCents(for: plan.cycle)
        {
            let charged = try? await chargeAddon(
                addon,
                cycle: plan.cycle,
                period: period,
                organization: organization,
                actor: actor
            )
            if charged?.status == .failed || charged == nil {
                plan.rolloverAddon = false
                plan.rolloverProtection = entry.includesRolloverProtection
                records.append(
                    systemAudit(
                        organization.id,
                        .rolloverProtectionStopped,
                        "Rollover protection stopped: its renewal was declined. Plan credits of this cycle expire at its end."
                    )
                )
            }
        }
        _ = try await saveRenewal(plan, period: period, audits: records, renewed: paid)
        return paid
    }

    /// Saves a renewal's outcome once: a second server handling the same period (or a retry
    /// already recorded) changes nothing and writes no second audit entry. A retry of a past-due
    /// period is the same period, so it is saved when the standing changes.
    /// A paid renewal tells `subscription.renewed` in the same unit of work.
    func saveRenewal(_ plan: Plan, period: DateInterval, audits: [AuditRecord], renewed: Bool = false) async throws
        -> Bool
    {
        let instant = now()
        return try await database.unitOfWork { work in
            let saved = try await PlanStore.saveRenewal(
                plan,
                period: period.start,
                now: instant,
                audits: audits,
                in: work
            )
            if saved, renewed {
                try await WebhookOutbox.organization(
                    plan.organizationID,
                    .subscriptionRenewed,
                    data: RenewalData(
                        plan: plan.catalogueID,
                        name: plan.name,
                        cycle: plan.cycle.rawValue,
                        credits: plan.credits,
                        periodStart: period.start,
                        periodEnd: period.end
                    ),
                    at: instant,
                    in: work
                )
            }
            return saved
        }
    }

    /// A past-due renewal charged again (the payment method changed, or the customer asked).
    func retryRenewal(_ plan: Plan, organization: Organization, actor: Actor) async throws -> Bool {
        guard plan.status == .pastDue, let period = currentPeriod(plan, zone: organization.zone),
            let method = try await billingStore.profile(organization.id)?.method
        else { return false }
        return try await chargeRenewal(
            plan,
            period: period,
            organization: organization,
            actor: actor,
            attempt: "retry:\(method.token)"
        )
    }

    /// Reacts to facts: a new payment method retries a past-due renewal and a declined monthly
    /// fee; a plan fee whose outcome was found later sets the subscription's standing.
    public func handle(_ fact: Fact) async {
        do {
            switch fact {
            case .paymentMethodChanged(let organization):
                if let plan = try await plans.plan(organization.id), plan.catalogueID != nil, plan.active {
                    _ = try await retryRenewal(plan, organization: organization, actor: .system)
                }
                try await retryMonthlyFee(organization)
            case .purchaseFinished(let purchase) where purchase.kind == .plan:
                guard var plan = try await plans.plan(purchase.organizationID), plan.active,
                    let period = purchase.period, plan.renewedPeriod == period.start
                else { return }
                let status: Plan.Status = purchase.status == .succeeded ? .active : .pastDue
                guard plan.status != status, purchase.status != .pending else { return }
                plan.status = status
                try await save(
                    plan,
                    audit: systemAudit(
                        purchase.organizationID,
                        status == .active ? .subscriptionRenewed : .subscriptionDeclined,
                        status == .active
                            ? "The \(plan.name) plan's charge went through."
                            : "The \(plan.name) plan's charge was declined (\(purchase.failureMessage ?? "no reason given")); no plan credits were added."
                    )
                )
            case .balanceChanged, .purchaseFinished:
                break
            }
        } catch {
            logger.error("subscription reaction failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    // MARK: The monthly platform fee

    /// Charges the country's monthly platform fee (AU: "+ additional monthly fee") to every
    /// organisation that has SMS on — a sending number — once per credit month, with its tax
    /// invoice. A month without a payment method or with a declined charge is audited, shown
    /// as a banner, and charged again when the payment method changes.
    @discardableResult
    public func runMonthlyFees(limit: Int = 100) async throws -> Int {
        var charged = 0
        for id in try await organizations.organizationIDs() where charged < limit {
            guard let organization = try await organizations.organization(id), organization.markedSpamAt == nil,
                let fee = creditPrices.terms[organization.country]?.monthlyFeeCents, fee > 0,
                try await numbers.numbers(of: id).contains(where: { $0.kind != "test" })
            else { continue }
            let month = CreditMonth.containing(now(), day: organization.allotmentDay, timeZone: organization.zone)
            guard try await !organizations.monthlyRunDone(id, kind: "monthly_fee", period: month.start) else {
                continue
            }
            try await chargeMonthlyFee(fee, month: month, organization: organization, attempt: nil)
            charged += 1
        }
        return charged
    }

    func chargeMonthlyFee(_ fee: Int64, month: DateInterval, organization: Organization, attempt: String?)
        async throws
    {
        let suffix = attempt.map { ":\($0)" } ?? ""
        let purchase = try? await charge(
            .monthlyFee,
            cents: fee,
            credits: 0,
            description: "Monthly fee: \(Self.span(month, organization.zone))",
            period: month,
            lotExpiresAt: nil,
            organization: organization,
            actor: .system,
            key: "monthly-fee:\(month.start.milliseconds)\(suffix)"
        )
        let instant = now()
        let failed = purchase == nil || purchase?.status == .failed
        let record = systemAudit(
            organization.id,
            .monthlyFeeFailed,
            "The monthly fee of \(Money.format(cents: fee)) could not be charged (\(purchase?.failureMessage ?? "there is no payment method on file")). Update the payment method under billing: it is charged again."
        )
        try await database.unitOfWork { work in
            let first = try await OrganizationStore.claimMonthlyRun(
                organization.id,
                kind: "monthly_fee",
                period: month.start,
                at: instant,
                in: work
            )
            if failed, first { try await AuditStore.insert([record], in: work) }
        }
    }

    /// The fee of the running month charged again after a failure.
    func retryMonthlyFee(_ organization: Organization) async throws {
        guard let fee = creditPrices.terms[organization.country]?.monthlyFeeCents, fee > 0,
            let method = try await billingStore.profile(organization.id)?.method
        else { return }
        let month = CreditMonth.containing(now(), day: organization.allotmentDay, timeZone: organization.zone)
        guard let last = try await billingStore.latest(.monthlyFee, of: organization.id, periodStart: month.start),
            last.status == .failed
        else {
            // No charge was made this month (no method then): charge it now if the month was claimed.
            if try await organizations.monthlyRunDone(organization.id, kind: "monthly_fee", period: month.start),
                try await billingStore.latest(.monthlyFee, of: organization.id, periodStart: month.start) == nil
            {
                try await chargeMonthlyFee(
                    fee,
                    month: month,
                    organization: organization,
                    attempt: "retry:\(method.token)"
                )
            }
            return
        }
        try await chargeMonthlyFee(fee, month: month, organization: organization, attempt: "retry:\(method.token)")
    }

    /// Whether the running month's platform fee is unpaid (for the banner).
    public func monthlyFeeUnpaid(_ organization: Organization) async throws -> Bool {
        guard let fee = creditPrices.terms[organization.country]?.monthlyFeeCents, fee > 0 else { return false }
        let month = CreditMonth.containing(now(), day: organization.allotmentDay, timeZone: organization.zone)
        guard try await organizations.monthlyRunDone(organization.id, kind: "monthly_fee", period: month.start) else {
            return false
        }
        let last = try await billingStore.latest(.monthlyFee, of: organization.id, periodStart: month.start)
        return last == nil || last?.status == .failed
    }

    // MARK: Charging

    /// One fee through the billing service's purchase path (recorded, charged, invoiced,
    /// reconciled if the answer is lost). Throws when there is no payment method.
    func charge(
        _ kind: Purchase.Kind,
        cents: Int64,
        credits: Int64,
        description: String,
        period: DateInterval,
        lotExpiresAt: Date?,
        organization: Organization,
        actor: Actor,
        key: String,
        email: String? = nil
    ) async throws -> Purchase {
        let quote: Quote
        do {
            quote = try creditPrices.feeQuote(cents: cents, credits: credits, country: organization.country)
        } catch {
            throw PurchaseError.quote(error)
        }
        guard
            let purchase = try await billing.buyOnFile(
                quote,
                for: organization,
                kind: kind,
                actor: actor,
                key: key,
                fallbackEmail: email,
                description: description,
                period: period,
                lotExpiresAt: lotExpiresAt
            )
        else { throw PurchaseError.paymentMethodRequired(.fee) }
        return purchase
    }

    func save(_ plan: Plan, audit: AuditRecord) async throws {
        let instant = now()
        _ = try await database.unitOfWork { work in
            try await PlanStore.save(plan, now: instant, audits: [audit], in: work)
        }
    }

    func audit(_ principal: Principal, _ action: AuditAction, _ message: String) -> AuditRecord {
        principal.organizationAudit(action, message, at: now())
    }

    func systemAudit(_ organization: OrganizationID, _ action: AuditAction, _ message: String) -> AuditRecord {
        AuditRecord(
            organization: organization,
            actor: .system,
            action: action,
            message: AuditText(message),
            subjectType: "organization",
            subjectID: organization.rawValue,
            at: now()
        )
    }

    /// "6 Dec 2026" in the organisation's time zone.
    static func day(_ instant: Date, _ zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB")
        formatter.timeZone = zone
        formatter.dateFormat = "d MMM yyyy"
        return formatter.string(from: instant)
    }

    /// "6 Dec 2026 – 6 Jan 2027".
    static func span(_ period: DateInterval, _ zone: TimeZone) -> String {
        "\(day(period.start, zone)) – \(day(period.end, zone))"
    }
}

/// What `subscription.renewed` tells.
struct RenewalData: Encodable {
    var plan: String?
    var name: String
    var cycle: String
    var credits: Int64
    var periodStart: Date
    var periodEnd: Date

    enum CodingKeys: String, CodingKey {
        case plan, name, cycle, credits
        case periodStart = "period_start"
        case periodEnd = "period_end"
    }
}
