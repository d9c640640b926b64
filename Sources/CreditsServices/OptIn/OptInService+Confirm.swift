import CreditsCore
import CreditsStore
import Foundation

extension OptInService {
    /// JOIN from a number that is not opted in: the keyword answer asking it to reply YES, and the
    /// request to keep (in the inbound text's unit of work). The address is the phone itself.
    func joinRequest(organization: Organization, phone: String, at instant: Date) -> (reply: String, optIn: OptIn) {
        let optIn = OptIn(
            id: Identifier.make("opt_"),
            organizationID: organization.id,
            phone: phone,
            name: nil,
            source: .keyword,
            address: phone,
            wording: OptInService.wording(of: organization),
            messageID: nil,
            requestedAt: instant,
            expiresAt: instant.addingTimeInterval(limits.pendingLifetime)
        )
        return (OptInWording.render(OptInWording.confirmation, account: organization.name), optIn)
    }

    /// An opt-in keyword (YES, START) from `phone`, in the inbound text's unit of work: confirms
    /// the number's waiting request, if any, and adds a contact (named as typed on the page, or by
    /// the number for JOIN) when the organisation has none with that number. Returns the request
    /// and the audit entries to keep with the text; nil when nothing was waiting.
    func confirm(organization: Organization, phone: String, at instant: Date, in work: UnitOfWork) async throws
        -> (optIn: OptIn, audits: [AuditRecord])?
    {
        guard
            let optIn = try await OptInStore.confirm(organization: organization.id, phone: phone, at: instant, in: work)
        else { return nil }
        let name = optIn.name ?? phone
        let contact = try ContactRules.contact(
            NewContactInput(name: name, phone: phone),
            organization: organization,
            at: instant
        )
        let who = "\(name) (\(phone))"
        var audits = [
            AuditRecord(
                organization: organization.id,
                actor: Actor(kind: .contact, id: nil, name: who),
                action: .contactOptedIn,
                message: "\(who) confirmed by text the opt-in they asked for through the \(optIn.source.label).",
                subjectType: "contact",
                at: instant
            )
        ]
        if try await OptInStore.addContactIfAbsent(contact, in: work) {
            audits.append(
                AuditRecord(
                    organization: organization.id,
                    actor: Actor(kind: .contact, id: nil, name: who),
                    action: .contactCreated,
                    message: "Contact \(who) added by their opt-in through the \(optIn.source.label).",
                    subjectType: "contact",
                    subjectID: contact.id,
                    at: instant
                )
            )
        }
        return (optIn, audits)
    }
}
