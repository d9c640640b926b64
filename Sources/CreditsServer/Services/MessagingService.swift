import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import SQLKit

/// Sending: a send request becomes a campaign whose messages are priced per recipient, reserved
/// (one hold each) and queued in one transaction — all or nothing.
public struct MessagingService: Sendable {
    let services: AppServices

    /// Most recipients one send may have.
    public static let recipientsMax = 100_000
    /// Individual audit entries for merge-field failures before they are summarised.
    static let mergeAuditsMax = 100

    /// A message ready to be reserved and queued.
    struct Planned {
        var id: String
        var phone: String
        var text: String
        var segments: Int
        var credits: Credits
    }

    // MARK: Campaigns

    public func send(_ principal: Principal, _ input: SendInput) async throws -> CampaignView {
        let now = services.now()
        let organization = principal.organization
        do { try MessageBody.validate(input.body) } catch { throw APIError(error) }
        let hasFields: Bool
        do { hasFields = try !MergeFields.names(in: input.body).isEmpty } catch { throw APIError(error) }
        let channel = input.channel ?? .sms
        let phones = input.to ?? [], contactIDs = input.contacts ?? [], groups = (input.groups ?? []).map { $0.lowercased() }
        guard !(phones.isEmpty && contactIDs.isEmpty && groups.isEmpty) else {
            throw APIError.invalid("to", "Name at least one recipient in to, contacts or groups.", code: "recipients_required")
        }
        guard phones.count + contactIDs.count <= MessagingService.recipientsMax else {
            throw APIError.invalid("to", "A send can have at most \(MessagingService.recipientsMax) recipients.", code: "too_many_recipients")
        }

        let resolution = try await resolveRecipients(organization: organization, phones: phones, contactIDs: contactIDs, groups: groups)
        var skipped = resolution.skipped
        if resolution.requested > 1 { try principal.require(.sendMassTexts) }
        guard resolution.requested <= MessagingService.recipientsMax else {
            throw APIError.invalid("groups", "A send can have at most \(MessagingService.recipientsMax) recipients.", code: "too_many_recipients")
        }
        let notBefore = try sendingTime(principal, input: input, now: now)

        // Price each recipient's text; a merge field that fails skips that recipient, audited.
        let options = EstimateService.options(for: organization, channel: channel, prices: services.configuration.prices)
        var planned: [Planned] = []
        var audits: [AuditRecord] = []
        var mergeFailures = 0
        let shared: PricedText? = hasFields ? nil : try priced(input.body, options: options)
        for recipient in resolution.recipients {
            do {
                let text = try shared ?? Estimator.price(body: MergeFields.render(input.body, values: recipient.contact?.mergeValues ?? ["phone": recipient.phone]),
                                                         options: options)
                planned.append(Planned(id: Identifier.make("msg_"), phone: recipient.phone, text: text.text, segments: text.segments, credits: text.credits))
            } catch {
                skipped[.mergeField, default: 0] += 1
                mergeFailures += 1
                if mergeFailures <= MessagingService.mergeAuditsMax {
                    let who = recipient.contact.map { "\($0.name) (\(recipient.phone))" } ?? recipient.phone
                    audits.append(AuditRecord(organization: organization.id, actor: principal.actor, action: "sms.merge_error",
                                              message: "SMS message to \(who) not sent: \((error as? MessageError)?.message ?? (error as? APIError)?.message ?? "its text could not be priced.")", subjectType: "contact",
                                              subjectID: recipient.contact?.id, at: now))
                }
            }
        }
        if mergeFailures > MessagingService.mergeAuditsMax {
            audits.append(AuditRecord(organization: organization.id, actor: principal.actor, action: "sms.merge_error",
                                      message: "\(mergeFailures - MessagingService.mergeAuditsMax) more recipients skipped for merge-field errors.", at: now))
        }
        guard !planned.isEmpty else {
            let reasons = skipped.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue.replacingOccurrences(of: "_", with: " "))" }
            throw APIError.invalid("to", "No recipient can receive this message (\(reasons.joined(separator: ", "))).", code: "no_eligible_recipients")
        }

        let account = try await sendingAccount(principal)
        let from = try await sendingNumber(organization.id)
        let total = planned.reduce(Credits.zero) { $0 + $1.credits }
        let campaign = Campaign(
            id: Identifier.make("cmp_"), organizationID: organization.id, account: account.id, actor: principal.actor.reference,
            actorName: principal.actor.name, body: input.body, channel: channel, automated: input.automated ?? false, sendAt: input.sendAt,
            notBefore: notBefore, status: notBefore > now ? "scheduled" : "sending", requested: resolution.requested, accepted: planned.count,
            skipped: Dictionary(uniqueKeysWithValues: skipped.map { ($0.key.rawValue, $0.value) }), creditsReserved: total, createdAt: now,
            canceledAt: nil)
        let skippedText = skipped.isEmpty ? "" : " (\(skipped.values.reduce(0, +)) skipped)"
        audits.insert(AuditRecord(organization: organization.id, actor: principal.actor, action: "sms.requested",
                                  message: "Requested to send SMS message to \(planned.count) \(planned.count == 1 ? "recipient" : "recipients")\(skippedText).",
                                  subjectType: "campaign", subjectID: campaign.id, at: now), at: 0)
        try await place(planned, organization: organization.id, account: account, from: from, channel: channel, kind: .campaign,
                        campaign: campaign, conversation: nil, notBefore: notBefore, actor: principal.actor, audits: audits, now: now)
        await services.alerts.afterSend(principal, account: account)
        return try await view(campaign.id, principal: principal)
    }

    func priced(_ body: String, options: EstimateOptions) throws -> PricedText {
        do { return try Estimator.price(body: body, options: options) } catch { throw APIError(error) }
    }

    /// Recipients in request order, de-duplicated by number, with the opted-out and never
    /// opted-in left out and counted.
    func resolveRecipients(organization: Organization, phones: [String], contactIDs: [String], groups: [String]) async throws
        -> (recipients: [RecipientRow], skipped: [SkipReason: Int], requested: Int) {
        var skipped: [SkipReason: Int] = [:]
        var normalized: [String] = []
        for raw in phones {
            if let number = try? PhoneNumber(parsing: raw, defaultCountry: organization.country).e164 {
                normalized.append(number)
            } else {
                skipped[.invalidNumber, default: 0] += 1
            }
        }
        let byPhone = try await services.contacts.recipients(organization.id, phones: Array(Set(normalized)))
        let lookup = Dictionary(byPhone.map { ($0.phone, $0) }, uniquingKeysWith: { first, _ in first })
        let (found, missingGroups, missingContacts) = try await services.contacts.recipients(organization.id, groups: groups, contactIDs: contactIDs)
        skipped[.notFound, default: 0] += missingGroups.count + missingContacts.count
        if skipped[.notFound] == 0 { skipped[.notFound] = nil }
        let candidates = normalized.compactMap { lookup[$0] } + found
        let requested = phones.count + found.count + missingGroups.count + missingContacts.count
        var seen = Set<String>()
        var recipients: [RecipientRow] = []
        for candidate in candidates {
            guard seen.insert(candidate.phone).inserted else { skipped[.duplicate, default: 0] += 1; continue }
            switch candidate.consent {
            case .optedOut: skipped[.optedOut, default: 0] += 1
            case .pending: skipped[.notOptedIn, default: 0] += 1
            case .optedIn: recipients.append(candidate)
            }
        }
        return (recipients, skipped, requested)
    }

    /// When the campaign may go out: now, its scheduled time, or when the sending window opens.
    /// A manual send outside the window is refused unless overridden by someone allowed to.
    func sendingTime(_ principal: Principal, input: SendInput, now: Date) throws -> Date {
        let hours = principal.organization.smsSettings.sendingHours
        if let sendAt = input.sendAt {
            guard sendAt >= now.addingTimeInterval(-60), sendAt <= now.addingTimeInterval(366 * 86_400) else {
                throw APIError.invalid("send_at", "send_at must be within the next year.")
            }
            if case .closed(let opens) = hours.evaluate(at: max(sendAt, now)) { return opens }
            return max(sendAt, now)
        }
        guard case .closed(let opens) = hours.evaluate(at: now) else { return now }
        if input.automated == true { return opens }
        if input.overrideSendingHours == true {
            try principal.require(.overrideSendingHours)
            return now
        }
        throw APIError(.conflict, "outside_sending_hours",
                       "It is outside your SMS sending hours (\(hours.start)–\(hours.end) \(hours.timeZone)); they open at \(ISO8601DateFormatter().string(from: opens)). Schedule the message, or send anyway with override_sending_hours if you have the Mass Text Availability Override permission.")
    }

    /// The pool, or the sender's own wallet in individual-credits mode.
    func sendingAccount(_ principal: Principal) async throws -> LedgerAccount {
        let accounts = try await services.ledgerStore.accounts(of: principal.organizationID)
        if principal.organization.creditMode == .individual, !principal.staff.role.sharesPool, let wallet = principal.staff.wallet,
           let account = accounts.first(where: { $0.id == wallet }) {
            return account
        }
        guard let pool = accounts.first(where: { $0.kind == .pool }) else { throw APIError.notFound("The credit pool") }
        return pool
    }

    /// The number the organisation sends from (the Simulator gives a test number at once).
    public func sendingNumber(_ organization: OrganizationID) async throws -> String {
        if let number = try await services.numbers.numbers(of: organization).first?.number { return number }
        if services.simulator != nil { return try await services.numbers.ensureTestNumber(for: organization, at: services.now()) }
        throw APIError(.conflict, "no_sending_number", "Register a phone number under SMS settings before sending.")
    }

    /// Reserves a hold per message (one all-or-nothing ledger operation) and queues the messages,
    /// with the campaign and audit entries, in one transaction. If the holds do not fit, nothing
    /// is kept and the send gets 402 with the shortfall.
    func place(_ planned: [Planned], organization: OrganizationID, account: LedgerAccount, from: String, channel: Channel, kind: MessageKind,
               campaign: Campaign?, conversation: String?, notBefore: Date, actor: Actor, audits: [AuditRecord], now: Date) async throws {
        let timeout = notBefore.addingTimeInterval(services.configuration.holdTimeout)
        var holds: [PlannedHold] = []
        var messages: [Message] = []
        holds.reserveCapacity(planned.count)
        messages.reserveCapacity(planned.count)
        for item in planned {
            let hold = HoldID(Identifier.make("hold_"))
            holds.append(PlannedHold(hold: hold, amount: item.credits, reference: item.id, timeoutAt: timeout))
            messages.append(Message(id: item.id, organizationID: organization, campaignID: campaign?.id, conversationID: conversation,
                                    direction: "outbound", kind: kind, from: from, to: item.phone, body: item.text, channel: channel,
                                    segments: item.segments, credits: item.credits, status: .queued, holdID: hold, notBefore: notBefore,
                                    createdAt: now, updatedAt: now))
        }
        let memo = planned.count == 1 ? "Hold for SMS to \(planned[0].phone)" : "Holds for \(planned.count) SMS messages"
        let request = LedgerRequest(organization: organization, idempotencyKey: "reserve:\(campaign?.id ?? planned[0].id)",
                                    operation: .reserveAll(account: account.id, holds: holds), at: now, actor: actor.reference, memo: memo)
        let queued = messages
        let results = try await services.ledgerStore.apply([request]) { sql, results in
            guard case .success = results.first else { return }
            if let campaign { try await MessageStore.insert(campaign, on: sql) }
            if conversation != nil, let last = queued.last {
                _ = try await ConversationStore.touch(organization: organization, phone: last.to, message: last.body, inbound: false, flagged: false,
                                                      at: now, on: sql)
            }
            try await MessageStore.insert(queued, on: sql)
            try await AuditStore.insert(audits, on: sql)
        }
        guard case .failure(let error) = results.first else {
            if account.kind == .pool { await services.autoRenew.check(organization) }
            return
        }
        guard case let .insufficientCredits(available, requested) = error else { throw APIError(error) }
        throw APIError(.paymentRequired402, "insufficient_credits",
                       "Not enough credits: this send needs \(requested), \(available) are available (short by \(requested - available)). Nothing was sent.",
                       shortfall: requested - available)
    }

    /// Queues messages that cost nothing (keyword answers, notices) inside the caller's transaction.
    static func queueFree(_ messages: [Message], on sql: any SQLDatabase) async throws {
        try await MessageStore.insert(messages, on: sql)
    }

    // MARK: Reading and canceling

    public func view(_ id: String, principal: Principal) async throws -> CampaignView {
        guard let campaign = try await services.messages.campaign(id, of: principal.organizationID) else { throw APIError.notFound("Campaign \(id)") }
        let totals = try await services.messages.campaignTotals(id)
        return CampaignView(campaign: campaign, counts: totals.counts, creditsPosted: totals.charged, creditsReleased: totals.released)
    }

    /// Cancels what of a campaign has not been dispatched; holds are voided.
    public func cancel(_ id: String, principal: Principal) async throws -> CampaignView {
        guard let campaign = try await services.messages.campaign(id, of: principal.organizationID) else { throw APIError.notFound("Campaign \(id)") }
        if campaign.actor != principal.actor.reference { try principal.require(.sendMassTexts) }
        let canceled = try await services.messages.cancelQueued(campaign: id, organization: principal.organizationID, at: services.now())
        guard !canceled.isEmpty || campaign.status == "canceled" else {
            throw APIError(.conflict, "nothing_to_cancel", "Every message of this campaign has already been sent.")
        }
        try await AuditStore.insert([AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "sms.canceled",
                                                 message: "Canceled \(canceled.count) scheduled SMS messages; their credits were released.",
                                                 subjectType: "campaign", subjectID: id, at: services.now())], on: services.database)
        return try await view(id, principal: principal)
    }

    public func message(_ id: String, principal: Principal) async throws -> MessageView {
        guard let (message, history) = try await services.messages.message(id, of: principal.organizationID) else { throw APIError.notFound("Message \(id)") }
        return MessageView(message: message, history: history)
    }
}

extension AuditStore {
    /// Writes entries in a transaction of their own.
    public static func insert(_ records: [AuditRecord], on database: any Database) async throws {
        try await database.transaction { sql in try await AuditStore.insert(records, on: sql) }
    }
}
