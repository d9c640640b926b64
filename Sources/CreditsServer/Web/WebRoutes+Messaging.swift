import CreditsCore
import CreditsStore
import Foundation
import Hummingbird

/// Compose (with the live estimate), a campaign's progress, and the Messenger Center.
extension WebRoutes {
    static func addMessaging(to portal: RouterGroup<AppRequestContext>, pages: WebPages) {
        let services = pages.services
        portal.get("/compose") { request, context in
            let principal = try context.authenticated()
            let settings = principal.organization.smsSettings
            let groups = try await services.contacts.groups(of: principal.organizationID)
            let contacts = try await services.contacts.list(principal.organizationID, ContactQuery(limit: 500))
            let zone = principal.organization.zone
            let hours = settings.sendingHours
            let values: [String: Any] = [
                "groups": groups.map { ["name": $0.name, "contacts": String($0.contacts)] },
                "contacts": contacts.map { ["id": $0.id, "name": $0.name, "phone": WebFormat.phone($0.phone), "consent": $0.consent.rawValue] },
                "may_mass_text": principal.can(.sendMassTexts),
                "may_override": principal.can(.overrideSendingHours),
                "header": settings.header, "footer": settings.footer, "smart_encoding": settings.smartEncoding,
                "hours": "\(hours.start) to \(hours.end), \(hours.days.map { $0.rawValue.capitalized }.joined(separator: " "))",
                "inside_hours": { if case .open = hours.evaluate(at: services.now()) { true } else { false } }(),
                "time_zone": zone.identifier,
                "body_max": String(MessageBody.lengthMax),
            ]
            return try await pages.page("compose", title: "Compose", section: "compose", request: request, context: context, values: values)
        }
        portal.post("/compose") { _, context in
            try await submit(context, back: "/compose") { principal, form in
                var input = try form.input(SendInput.self, ["body": .text, "groups": .list, "contacts": .list, "override_sending_hours": .bool])
                let phones = (form.value("to") ?? "").split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == ";" })
                    .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
                if !phones.isEmpty { input.to = phones }
                if let later = form.trimmed("send_at") { input.sendAt = try WebFormat.localTime(later, zone: principal.organization.timeZone, field: "send_at") }
                let campaign = try await services.messaging.send(principal, input)
                let skipped = campaign.campaign.skipped.values.reduce(0, +)
                return ("/campaigns/\(campaign.campaign.id)", "\(WebFormat.count(campaign.campaign.accepted, "text")) queued; "
                    + "\(WebFormat.credits(campaign.campaign.creditsReserved)) reserved"
                    + (skipped > 0 ? "; \(WebFormat.count(skipped, "recipient")) skipped (opted out or never opted in)." : "."))
            }
        }
        portal.get("/campaigns/:id") { request, context in
            let principal = try context.authenticated()
            let campaign = try await services.messaging.view(try context.parameter("id"), principal: principal)
            let json = try JSONValue.of(campaign)
            let status = json["status"].flatMap { if case .string(let text) = $0 { text } else { nil } } ?? ""
            let zone = principal.organization.zone
            let values: [String: Any] = [
                "campaign": json.template,
                "counts": campaign.counts.sorted { $0.key < $1.key }.map { ["status": $0.key, "count": String($0.value)] },
                "in_progress": status != "completed" && status != "canceled",
                "created": WebFormat.time(campaign.campaign.createdAt, in: zone),
            ]
            return try await pages.page("campaign", title: "Campaign", section: "compose", request: request, context: context, values: values)
        }
        portal.post("/campaigns/:id/cancel") { _, context in
            let id = try context.parameter("id")
            return try await submit(context, back: "/campaigns/\(id)") { principal, _ in
                _ = try await services.messaging.cancel(id, principal: principal)
                return ("/campaigns/\(id)", "Campaign canceled; the credits of unsent texts were released.")
            }
        }
        portal.post("/app/estimate") { request, context in try await CreditRoutes.estimate(request, context, services: services) }
        addInbox(to: portal, pages: pages)
    }

    static func addInbox(to portal: RouterGroup<AppRequestContext>, pages: WebPages) {
        let services = pages.services
        portal.get("/inbox") { request, context in
            let principal = try context.authenticated()
            let filter = request.uri.queryParameters.get("status").flatMap { ["open", "closed", "unread", "flagged"].contains($0) ? $0 : nil }
            let conversations = try await services.conversations.list(principal.organizationID, filter: filter, after: nil, limit: 200)
            let zone = principal.organization.zone
            let values: [String: Any] = [
                "filters": [("", "All"), ("unread", "Unread"), ("open", "Open"), ("closed", "Closed"), ("flagged", "Opt-out requests")].map { value, label in
                    ["href": value.isEmpty ? "/inbox" : "/inbox?status=\(value)", "label": label, "current": (filter ?? "") == value]
                },
                "conversations": conversations.map { conversation -> [String: Any] in
                    ["id": conversation.id, "who": conversation.contactName ?? WebFormat.phone(conversation.phone), "phone": WebFormat.phone(conversation.phone),
                     "last_message": conversation.lastMessage, "when": WebFormat.time(conversation.lastMessageAt, in: zone),
                     "unread": conversation.unread > 0 ? String(conversation.unread) : false, "status": conversation.status, "flagged": conversation.flagged]
                },
            ]
            return try await pages.page("inbox", title: "Messenger Center", section: "inbox", request: request, context: context, values: values)
        }
        portal.get("/inbox/:id") { request, context in
            let principal = try context.authenticated()
            let id = try context.parameter("id")
            let (conversation, messages) = try await services.messaging.conversation(principal, id)
            if conversation.unread > 0 {
                try await services.conversations.update(id, of: principal.organizationID, status: nil, read: true, flagged: nil)
            }
            let zone = principal.organization.zone
            let values: [String: Any] = [
                "conversation": ["id": conversation.id, "who": conversation.contactName ?? WebFormat.phone(conversation.phone),
                                 "phone": WebFormat.phone(conversation.phone), "open": conversation.status == "open", "flagged": conversation.flagged],
                "messages": messages.map { message -> [String: Any] in
                    ["inbound": message.direction == "inbound", "body": message.body, "when": WebFormat.time(message.createdAt, in: zone),
                     "status": message.status.rawValue, "flagged": message.flagged]
                },
                "body_max": String(MessageBody.lengthMax),
            ]
            return try await pages.page("conversation", title: "Conversation", section: "inbox", request: request, context: context, values: values)
        }
        portal.post("/inbox/:id/reply") { _, context in
            let id = try context.parameter("id")
            return try await submit(context, back: "/inbox/\(id)") { principal, form in
                let input = try form.input(ReplyInput.self, ["body": .text])
                let sent = try await services.messaging.reply(principal, conversation: id, body: input.body)
                return ("/inbox/\(id)", "Reply queued; \(WebFormat.credits(sent.message.credits)) reserved.")
            }
        }
        portal.post("/inbox/:id") { _, context in
            let id = try context.parameter("id")
            return try await submit(context, back: "/inbox/\(id)") { principal, form in
                // Each button sends one change: open/close, or the opt-out flag.
                let patch = try form.input(ConversationPatch.self, form.value("status") != nil ? ["status": .text] : ["flagged": .bool])
                _ = try await services.messaging.updateConversation(principal, id, patch)
                return ("/inbox/\(id)", patch.status == "closed" ? "Conversation closed." : "Conversation updated.")
            }
        }
    }
}
