import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// Compose (with the live estimate), a campaign's progress, and the Messenger Center.
extension WebRoutes {
    func addMessaging(to portal: RouterGroup<AppRequestContext>) {
        let (pages, contacts, messaging, prices, now) = (pages, contacts, messaging, prices, now)
        portal.get("/compose") { request, context in
            let principal = try context.authenticated()
            let settings = principal.organization.smsSettings
            let groups = try await contacts.groups(principal)
            let people = try await contacts.list(principal, ContactQuery(limit: 500))
            let zone = principal.organization.zone
            let hours = settings.sendingHours
            let values: [String: Any] = [
                "groups": groups.map {
                    ["name": $0.name, "contacts": String($0.contacts), "opted_in": String($0.optedIn)]
                },
                "contacts": people.map {
                    ["id": $0.id, "name": $0.name, "phone": WebFormat.phone($0.phone), "consent": $0.consent.rawValue]
                },
                "may_mass_text": principal.can(.sendMassTexts),
                "may_override": principal.can(.overrideSendingHours),
                // Mustache shows a section for any string, even an empty one: no header is false.
                "header": settings.header.isEmpty ? false : settings.header,
                "footer": settings.footer.isEmpty ? false : settings.footer,
                "smart_encoding": settings.smartEncoding,
                "hours":
                    "\(hours.start) to \(hours.end), \(hours.days.map { $0.rawValue.capitalized }.joined(separator: " "))",
                "inside_hours": { if case .open = hours.evaluate(at: now()) { true } else { false } }(),
                "time_zone": zone.identifier,
                "body_max": String(MessageBody.lengthMax),
            ]
            return try await pages.page(
                "compose",
                title: "Compose",
                section: "compose",
                request: request,
                context: context,
                values: values
            )
        }
        portal.post("/compose") { _, context in
            try await WebRoutes.submit(context, back: "/compose") { principal, form in
                var input = try form.input(
                    SendInput.self,
                    ["body": .text, "groups": .list, "contacts": .list, "override_sending_hours": .bool]
                )
                let phones = (form.value("to") ?? "").split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == ";" })
                    .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
                if !phones.isEmpty { input.to = phones }
                if let later = form.trimmed("send_at") {
                    input.sendAt = try WebFormat.localTime(
                        later,
                        zone: principal.organization.timeZone,
                        field: "send_at"
                    )
                }
                let campaign = try await messaging.send(principal, input)
                let skipped = campaign.campaign.skipped.values.reduce(0, +)
                return (
                    "/campaigns/\(campaign.campaign.id)",
                    "\(WebFormat.count(campaign.campaign.accepted, "text")) queued; "
                        + "\(WebFormat.credits(campaign.campaign.creditsReserved)) reserved"
                        + (skipped > 0
                            ? "; \(WebFormat.count(skipped, "recipient")) skipped (opted out or never opted in)." : ".")
                )
            }
        }
        portal.get("/campaigns/:id") { request, context in
            let principal = try context.authenticated()
            let campaign = try await messaging.view(try context.parameter("id"), principal: principal)
            let json = try JSONValue.of(campaign)
            let status = campaign.state
            let zone = principal.organization.zone
            let values: [String: Any] = [
                "campaign": json.template,
                "counts": campaign.counts.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                    ["status": $0.key.rawValue, "count": String($0.value)]
                },
                "in_progress": status != "completed" && status != "canceled",
                "created": WebFormat.time(campaign.campaign.createdAt, in: zone),
            ]
            return try await pages.page(
                "campaign",
                title: "Campaign",
                section: "campaigns",
                request: request,
                context: context,
                values: values
            )
        }
        portal.post("/campaigns/:id/cancel") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/campaigns/\(id)") { principal, _ in
                _ = try await messaging.cancel(id, principal: principal)
                return ("/campaigns/\(id)", "Campaign canceled; the credits of unsent texts were released.")
            }
        }
        portal.post("/app/estimate") { request, context in
            try await CreditRoutes.estimate(request, context, prices: prices)
        }
        addInbox(to: portal)
    }

    func addInbox(to portal: RouterGroup<AppRequestContext>) {
        let (pages, conversations) = (pages, conversations)
        portal.get("/inbox") { request, context in
            let principal = try context.authenticated()
            let filter = request.uri.queryParameters.get("status").flatMap(ConversationFilter.init(rawValue:))
            let list = try await conversations.list(principal, filter: filter, after: nil, limit: 200)
            let zone = principal.organization.zone
            let values: [String: Any] = [
                "filters": [
                    ("", "All"), ("unread", "Unread"), ("open", "Open"), ("closed", "Closed"),
                    ("flagged", "Opt-out requests"),
                ].map { value, label in
                    [
                        "href": value.isEmpty ? "/inbox" : "/inbox?status=\(value)", "label": label,
                        "current": (filter?.rawValue ?? "") == value,
                    ]
                },
                "conversations": list.map { conversation -> [String: Any] in
                    [
                        "id": conversation.id, "who": conversation.contactName ?? WebFormat.phone(conversation.phone),
                        "phone": WebFormat.phone(conversation.phone),
                        "last_message": conversation.lastMessage,
                        "when": WebFormat.time(conversation.lastMessageAt, in: zone),
                        "unread": conversation.unread > 0 ? String(conversation.unread) : false,
                        "status": conversation.status.rawValue,
                        "flagged": conversation.flagged,
                    ]
                },
            ]
            return try await pages.page(
                "inbox",
                title: "Messenger Center",
                section: "inbox",
                request: request,
                context: context,
                values: values
            )
        }
        portal.get("/inbox/:id") { request, context in
            let principal = try context.authenticated()
            let id = try context.parameter("id")
            let (conversation, messages) = try await conversations.conversation(principal, id)
            if conversation.unread > 0 { try await conversations.markRead(principal, id) }
            let zone = principal.organization.zone
            let values: [String: Any] = [
                "conversation": [
                    "id": conversation.id, "who": conversation.contactName ?? WebFormat.phone(conversation.phone),
                    "phone": WebFormat.phone(conversation.phone), "open": conversation.status == .open,
                    "flagged": conversation.flagged,
                ],
                "messages": messages.map { message -> [String: Any] in
                    [
                        "inbound": message.direction == .inbound, "body": message.body,
                        "when": WebFormat.time(message.createdAt, in: zone),
                        "status": message.status.rawValue, "flagged": message.flagged,
                    ]
                },
                "body_max": String(MessageBody.lengthMax),
            ]
            return try await pages.page(
                "conversation",
                title: "Conversation",
                section: "inbox",
                request: request,
                context: context,
                values: values
            )
        }
        portal.post("/inbox/:id/reply") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/inbox/\(id)") { principal, form in
                let input = try form.input(ReplyInput.self, ["body": .text])
                let sent = try await conversations.reply(principal, conversation: id, body: input.body)
                return ("/inbox/\(id)", "Reply queued; \(WebFormat.credits(sent.message.credits)) reserved.")
            }
        }
        portal.post("/inbox/:id") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/inbox/\(id)") { principal, form in
                // Each button sends one change: open/close, or the opt-out flag.
                let patch = try form.input(
                    ConversationPatch.self,
                    form.value("status") != nil ? ["status": .text] : ["flagged": .bool]
                )
                _ = try await conversations.update(principal, id, patch)
                return ("/inbox/\(id)", patch.status == "closed" ? "Conversation closed." : "Conversation updated.")
            }
        }
    }
}
