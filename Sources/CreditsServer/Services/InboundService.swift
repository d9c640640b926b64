import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import SQLKit

/// Inbound texts: carrier keywords (opt-out, opt-in with the signup message, help) answered with
/// the organisation's templates at no charge, everything else into the Messenger Center.
/// Inbound is free and works at a zero balance.
public struct InboundService: Sendable {
    let services: AppServices

    /// What handling an inbound text did.
    public struct Outcome: Sendable, Equatable {
        public var organization: OrganizationID
        public var intent: String
        public var conversationID: String
        public var replies: Int
    }

    /// Handles one inbound text; nil when it was sent to a number no organisation has, or is a repeat.
    @discardableResult
    public func handle(_ sms: InboundSMS) async throws -> Outcome? {
        guard let organizationID = try await services.numbers.organization(forNumber: sms.to),
              let organization = try await services.organizations.organization(organizationID) else { return nil }
        let instant = services.now()
        let from = (try? PhoneNumber(parsing: sms.from, defaultCountry: organization.country).e164) ?? sms.from
        let intent = Keywords.classify(sms.body)
        let settings = organization.smsSettings
        var replies: [(String, MessageKind)] = []
        var consent: ConsentState?
        var audits: [AuditRecord] = []
        let contact = try await services.contacts.contact(phone: from, of: organizationID)
        let who = contact.map { "\($0.name) (\(from))" } ?? from
        func audit(_ action: String, _ message: String) {
            audits.append(AuditRecord(organization: organizationID, actor: Actor(kind: .contact, id: contact?.id, name: who), action: action,
                                      message: message, subjectType: "contact", subjectID: contact?.id, at: instant))
        }
        switch intent {
        case .optOut(let keyword):
            consent = .optedOut
            replies.append((KeywordReplies.render(settings.optOutReply, account: organization.accountName), .keywordReply))
            audit("contact.opted_out", "\(who) opted out by text (\(keyword)).")
        case .optIn(let keyword):
            consent = .optedIn
            replies.append((KeywordReplies.render(settings.optInReply, account: organization.accountName), .keywordReply))
            audit("contact.opted_in", "\(who) opted in by text (\(keyword)).")
        case .help:
            replies.append((KeywordReplies.render(settings.helpReply, account: organization.accountName), .keywordReply))
        case .containsOptOutWord(let word, _):
            audit("sms.flagged", "Text from \(who) contains \"\(word.lowercased())\" and is flagged for review.")
            if settings.replyMode == .noReply { replies.append((KeywordReplies.render(settings.noReplyNotice, account: organization.accountName), .notice)) }
        case .other:
            if settings.replyMode == .noReply { replies.append((KeywordReplies.render(settings.noReplyNotice, account: organization.accountName), .notice)) }
        }
        let flagged: Bool = if case .containsOptOutWord = intent { true } else { false }
        let database = services.database
        let conversation: String? = try await database.transaction { [replies, consent, audits] sql in
            if try await sql.raw("SELECT id FROM messages WHERE provider_id = \(bind: sms.providerID)").first() != nil { return nil }
            let conversation = try await ConversationStore.touch(organization: organizationID, phone: from, message: sms.body, inbound: true,
                                                                 flagged: flagged, at: instant, on: sql)
            let inbound = Message(id: Identifier.make("msg_"), organizationID: organizationID, campaignID: nil, conversationID: conversation,
                                  direction: "inbound", kind: .inbound, from: from, to: sms.to, body: sms.body, channel: .sms, segments: 0,
                                  credits: .zero, status: .received, holdID: nil, providerID: nil, flagged: flagged, notBefore: instant,
                                  createdAt: instant, updatedAt: instant)
            try await MessageStore.insert([inbound], detail: intent.name, on: sql)
            try await sql.raw("UPDATE messages SET provider_id = \(bind: sms.providerID) WHERE id = \(bind: inbound.id)").run()
            if let consent {
                try await ContactStore.recordConsent(organization: organizationID, phone: from, state: consent, source: .keyword, rawText: sms.body,
                                                     actor: "contact:\(from)", at: instant, on: sql)
            }
            let answers = replies.map { text, kind in
                Message(id: Identifier.make("msg_"), organizationID: organizationID, campaignID: nil, conversationID: conversation,
                        direction: "outbound", kind: kind, from: sms.to, to: from, body: text, channel: .sms,
                        segments: Segmenter.segment(text).segments, credits: .zero, status: .queued, holdID: nil, notBefore: instant,
                        createdAt: instant, updatedAt: instant)
            }
            try await MessagingService.queueFree(answers, on: sql)
            try await AuditStore.insert(audits, on: sql)
            return conversation
        }
        guard let conversation else { return nil }
        if consent == .optedIn { await services.messaging.sendSignup(organization: organization, phone: from, from: sms.to) }
        return Outcome(organization: organizationID, intent: intent.name, conversationID: conversation, replies: replies.count)
    }
}

extension MessagingService {
    /// Sends the signup message to a number that just opted in: immediately, even outside the
    /// sending hours, without header or footer, paid from the pool. A failure is audited, not thrown.
    public func sendSignup(organization: Organization, phone: String, from: String? = nil) async {
        let text = organization.smsSettings.signupMessage
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
        let now = services.now()
        do {
            let options = EstimateService.options(for: organization, channel: .sms, signup: true, prices: services.configuration.prices)
            let price = try priced(text, options: options)
            let accounts = try await services.ledgerStore.accounts(of: organization.id)
            guard let pool = accounts.first(where: { $0.kind == .pool }) else { return }
            let sender: String
            if let from { sender = from } else { sender = try await sendingNumber(organization.id) }
            let item = Planned(id: Identifier.make("msg_"), phone: phone, text: price.text, segments: price.segments, credits: price.credits)
            let audit = AuditRecord(organization: organization.id, actor: .system, action: "sms.signup",
                                    message: "Signup message sent to \(phone).", subjectType: "message", subjectID: item.id, at: now)
            try await place([item], organization: organization.id, account: pool, from: sender, channel: .sms, kind: .signup, campaign: nil,
                            conversation: nil, notBefore: now, actor: .system, audits: [audit], now: now)
        } catch {
            let reason = (error as? APIError)?.message ?? "\(error)"
            try? await AuditStore.insert([AuditRecord(organization: organization.id, actor: .system, action: "sms.signup_failed",
                                                      message: "Signup message to \(phone) not sent: \(reason)", at: now)], on: services.database)
        }
    }

    /// A conversation with its messages, or 404.
    public func conversation(_ principal: Principal, _ id: String) async throws -> (Conversation, [Message]) {
        guard let found = try await services.conversations.conversation(id, of: principal.organizationID) else {
            throw APIError.notFound("Conversation \(id)")
        }
        return found
    }

    /// Opens or closes a conversation, marks it read, or flags it (the API's PATCH and the
    /// Messenger Center's buttons).
    public func updateConversation(_ principal: Principal, _ id: String, _ patch: ConversationPatch) async throws -> (Conversation, [Message]) {
        if let status = patch.status, !["open", "closed"].contains(status) {
            throw APIError.invalid("status", "status is open or closed.")
        }
        _ = try await conversation(principal, id)
        try await services.conversations.update(id, of: principal.organizationID, status: patch.status, read: patch.read == true, flagged: patch.flagged)
        return try await conversation(principal, id)
    }

    /// A staff reply in a conversation: priced and held like any send; never to an opted-out number.
    public func reply(_ principal: Principal, conversation id: String, body: String) async throws -> MessageView {
        guard let (conversation, _) = try await services.conversations.conversation(id, of: principal.organizationID) else {
            throw APIError.notFound("Conversation \(id)")
        }
        if try await services.contacts.consent(organization: principal.organizationID, phone: conversation.phone) == .optedOut {
            throw APIError(.conflict, "opted_out", "\(conversation.phone) has opted out; no message can be sent to it.")
        }
        do { try MessageBody.validate(body) } catch { throw APIError(error) }
        let now = services.now()
        let options = EstimateService.options(for: principal.organization, channel: .sms, prices: services.configuration.prices)
        let price = try priced(body, options: options)
        let item = Planned(id: Identifier.make("msg_"), phone: conversation.phone, text: price.text, segments: price.segments, credits: price.credits)
        let audit = AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "sms.requested",
                                message: "Requested to send SMS message to 1 recipient (reply to \(conversation.phone)).", subjectType: "conversation",
                                subjectID: id, at: now)
        let account = try await sendingAccount(principal)
        try await place([item], organization: principal.organizationID, account: account,
                        from: try await sendingNumber(principal.organizationID), channel: .sms, kind: .reply, campaign: nil, conversation: id,
                        notBefore: now, actor: principal.actor, audits: [audit], now: now)
        await services.alerts.afterSend(principal, account: account)
        try await services.conversations.update(id, of: principal.organizationID, status: nil, read: true, flagged: nil)
        return try await message(item.id, principal: principal)
    }
}
