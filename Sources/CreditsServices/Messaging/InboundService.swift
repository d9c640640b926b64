import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation

/// Inbound texts: carrier keywords (opt-out, opt-in with the signup message, help) answered with
/// the organisation's templates at no charge, everything else into the Messenger Center.
/// Inbound is free and works at a zero balance.
public struct InboundService: Sendable {
    let database: any Database
    let numbers: NumberStore
    let organizations: OrganizationStore
    let contacts: ContactStore
    let messaging: MessagingService
    let now: @Sendable () -> Date

    public init(
        database: any Database,
        numbers: NumberStore,
        organizations: OrganizationStore,
        contacts: ContactStore,
        messaging: MessagingService,
        now: @escaping @Sendable () -> Date
    ) {
        self.database = database
        self.numbers = numbers
        self.organizations = organizations
        self.contacts = contacts
        self.messaging = messaging
        self.now = now
    }

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
        guard let organizationID = try await numbers.organization(forNumber: sms.to),
            let organization = try await organizations.organization(organizationID)
        else { return nil }
        let instant = now()
        let from = (try? PhoneNumber(parsing: sms.from, defaultCountry: organization.country).e164) ?? sms.from
        let intent = Keywords.classify(sms.body)
        let settings = organization.smsSettings
        var replies: [(String, MessageKind)] = []
        var consent: ConsentState?
        var audits: [AuditRecord] = []
        let contact = try await contacts.contact(phone: from, of: organizationID)
        let who = contact.map { "\($0.name) (\(from))" } ?? from
        func audit(_ action: AuditAction, _ message: AuditText) {
            audits.append(
                AuditRecord(
                    organization: organizationID,
                    actor: Actor(kind: .contact, id: contact?.id, name: who),
                    action: action,
                    message: message,
                    subjectType: "contact",
                    subjectID: contact?.id,
                    at: instant
                )
            )
        }
        func reply(_ template: String) -> String { KeywordReplies.render(template, account: organization.name) }
        switch intent {
        case .optOut(let keyword):
            consent = .optedOut
            replies.append((reply(settings.optOutReply), .keywordReply))
            audit(.contactOptedOut, "\(who) opted out by text (\(keyword)).")
        case .optIn(let keyword):
            consent = .optedIn
            replies.append((reply(settings.optInReply), .keywordReply))
            audit(.contactOptedIn, "\(who) opted in by text (\(keyword)).")
        case .help:
            replies.append((reply(settings.helpReply), .keywordReply))
        case .containsOptOutWord(let word, _):
            audit(.smsFlagged, "Text from \(who) contains \"\(word.lowercased())\" and is flagged for review.")
            if settings.replyMode == .noReply { replies.append((reply(settings.noReplyNotice), .notice)) }
        case .other:
            if settings.replyMode == .noReply { replies.append((reply(settings.noReplyNotice), .notice)) }
        }
        let flagged: Bool = if case .containsOptOutWord = intent { true } else { false }
        let inbound = Message(
            id: Identifier.make("msg_"),
            organizationID: organizationID,
            campaignID: nil,
            conversationID: nil,
            direction: .inbound,
            kind: .inbound,
            from: from,
            to: sms.to,
            body: sms.body,
            channel: .sms,
            segments: 0,
            credits: .zero,
            status: .received,
            holdID: nil,
            providerID: sms.providerID,
            flagged: flagged,
            notBefore: instant,
            createdAt: instant,
            updatedAt: instant
        )
        let conversation: String? = try await database.unitOfWork { [replies, consent, audits] work in
            // The provider repeats a webhook it is not sure arrived: the same text is kept once.
            guard try await !MessageStore.hasReceived(providerID: sms.providerID, in: work) else { return nil }
            let conversation = try await ConversationStore.touch(
                organization: organizationID,
                phone: from,
                message: sms.body,
                inbound: true,
                flagged: flagged,
                at: instant,
                in: work
            )
            var received = inbound
            received.conversationID = conversation
            try await MessageStore.insert([received], detail: intent.name, in: work)
            if let consent {
                try await ContactStore.recordConsent(
                    organization: organizationID,
                    phone: from,
                    state: consent,
                    source: .keyword,
                    rawText: sms.body,
                    actor: "contact:\(from)",
                    at: instant,
                    in: work
                )
            }
            let answers = replies.map { text, kind in
                Message(
                    id: Identifier.make("msg_"),
                    organizationID: organizationID,
                    campaignID: nil,
                    conversationID: conversation,
                    direction: .outbound,
                    kind: kind,
                    from: sms.to,
                    to: from,
                    body: text,
                    channel: .sms,
                    segments: Segmenter.segment(text).segments,
                    credits: .zero,
                    status: .queued,
                    holdID: nil,
                    notBefore: instant,
                    createdAt: instant,
                    updatedAt: instant
                )
            }
            try await MessagingService.queueFree(answers, in: work)
            try await AuditStore.insert(audits, in: work)
            return conversation
        }
        guard let conversation else { return nil }
        if consent == .optedIn { await messaging.sendSignup(organization: organization, phone: from, from: sms.to) }
        return Outcome(
            organization: organizationID,
            intent: intent.name,
            conversationID: conversation,
            replies: replies.count
        )
    }
}
