import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// SETTINGS > Webhooks: the organisation's endpoints (add, change, turn off or on, rotate the
/// secret, remove) and each endpoint's event log with a Resend button. A secret is shown on the
/// page that made it, never again (it is not put in a cookie or a redirect).
extension WebRoutes {
    func addWebhooks(to portal: RouterGroup<AppRequestContext>) {
        let webhooks = webhooks
        let routes = self
        portal.get("/settings/webhooks") { request, context in
            try await routes.webhooksPage(request, context, typed: nil, secret: nil, error: nil)
        }
        portal.post("/settings/webhooks") { request, context in
            let (principal, form) = try context.webForm()
            return try await WebRoutes.keepingInput {
                let endpoint = try await webhooks.create(
                    principal,
                    EndpointInput(
                        url: form.value("url") ?? "",
                        events: form.values("events"),
                        description: (form.value("description") ?? "").isEmpty ? nil : form.value("description")
                    )
                )
                return try await routes.webhooksPage(request, context, typed: nil, secret: endpoint, error: nil)
            } refused: { message in
                try await routes.webhooksPage(request, context, typed: form, secret: nil, error: message)
            }
        }
        portal.get("/settings/webhooks/{id}") { request, context in
            try await routes.webhookPage(request, context, id: try context.parameter("id"), secret: nil)
        }
        portal.post("/settings/webhooks/{id}") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/settings/webhooks/\(id)") { principal, form in
                let endpoint = try await webhooks.update(
                    id,
                    principal,
                    EndpointInput(
                        url: form.value("url"),
                        events: form.values("events"),
                        description: form.value("description") ?? "",
                        enabled: form.value("enabled") == "on"
                    )
                )
                return (
                    "/settings/webhooks/\(id)",
                    "Saved. \(endpoint.enabled ? "Events are sent" : "Nothing is sent") to \(endpoint.url)."
                )
            }
        }
        portal.post("/settings/webhooks/{id}/rotate") { request, context in
            let id = try context.parameter("id")
            let (principal, form) = try context.webForm()
            do {
                let endpoint = try await webhooks.rotate(
                    id,
                    principal,
                    RotateInput(
                        overlapHours: Int(form.value("overlap_hours") ?? "") ?? WebhookService.overlapHoursDefault
                    )
                )
                return try await routes.webhookPage(request, context, id: id, secret: endpoint)
            } catch let error as any DomainError where error.kind != .notFound {
                return WebResponse.redirect("/settings/webhooks/\(id)", error: error.message)
            }
        }
        portal.post("/settings/webhooks/{id}/delete") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/settings/webhooks/\(id)") { principal, _ in
                try await webhooks.delete(id, principal)
                return ("/settings/webhooks", "The endpoint was removed; nothing more is sent to it.")
            }
        }
        portal.post("/settings/webhooks/{id}/deliveries/{delivery}/resend") { _, context in
            let id = try context.parameter("id")
            let delivery = try context.parameter("delivery")
            return try await WebRoutes.submit(context, back: "/settings/webhooks/\(id)") { principal, _ in
                try await webhooks.resend(delivery, endpoint: id, principal)
                return ("/settings/webhooks/\(id)#log", "The event will be sent again in a moment, with the same id.")
            }
        }
    }

    /// The event checkboxes, with those `chosen` ticked.
    static func eventChoices(_ chosen: Set<String>) -> [[String: Any]] {
        WebhookEventType.allCases.map { ["value": $0.rawValue, "checked": chosen.contains($0.rawValue)] }
    }

    /// Where a delivery stands, in words.
    static func deliveryStatus(_ delivery: WebhookDeliveryView, in zone: TimeZone) -> String {
        guard delivery.status == "pending" else { return delivery.status }
        guard delivery.attempts > 0 else { return "waiting for its first try" }
        return "waiting" + (delivery.nextAttemptAt.map { ", next try \(WebFormat.time($0, in: zone))" } ?? "")
    }

    /// The list of endpoints with the form to add one (and the new secret once, when one was just made).
    func webhooksPage(
        _ request: Request,
        _ context: AppRequestContext,
        typed: WebForm?,
        secret created: WebhookEndpointView?,
        error: String?
    ) async throws -> Response {
        let principal = try context.authenticated()
        try WebPages.require("webhooks", principal)
        let zone = principal.organization.zone
        let endpoints = try await webhooks.list(principal)
        var values: [String: Any] = [
            "has_endpoints": !endpoints.isEmpty,
            "endpoints": endpoints.map { endpoint in
                [
                    "id": endpoint.id, "url": endpoint.url, "description": endpoint.description ?? "",
                    "has_description": endpoint.description != nil,
                    "events": endpoint.events.joined(separator: ", "), "enabled": endpoint.enabled,
                    "failing": endpoint.consecutiveFailures > 0,
                    "failures": WebFormat.count(endpoint.consecutiveFailures, "failed attempt"),
                    "since": endpoint.failingSince.map { WebFormat.time($0, in: zone) } ?? "",
                ] as [String: Any]
            },
            "url": typed?.value("url") ?? "",
            "description": typed?.value("description") ?? "",
            "event_choices": WebRoutes.eventChoices(Set(typed?.values("events") ?? [])),
            "created": false,
        ]
        if let created, let secret = created.secret {
            values["created"] = ["id": created.id, "url": created.url, "secret": secret]
        }
        return try await pages.page(
            "webhooks",
            title: "Webhooks",
            section: "webhooks",
            request: request,
            context: context,
            values: values,
            refusal: error
        )
    }

    /// One endpoint: its settings, its secret's rotation, and its event log with Resend.
    func webhookPage(_ request: Request, _ context: AppRequestContext, id: String, secret rotated: WebhookEndpointView?)
        async throws -> Response
    {
        let principal = try context.authenticated()
        try WebPages.require("webhooks", principal)
        let zone = principal.organization.zone
        let endpoint = try await webhooks.view(id, principal)
        let (deliveries, _) = try await webhooks.deliveries(id, principal, before: nil, limit: 50)
        var values: [String: Any] = [
            "id": endpoint.id, "endpoint_id": endpoint.id, "url": endpoint.url,
            "description": endpoint.description ?? "",
            "enabled": endpoint.enabled, "disabled_reason": endpoint.disabledReason ?? "",
            "has_disabled_reason": endpoint.disabledReason != nil,
            "event_choices": WebRoutes.eventChoices(Set(endpoint.events)),
            "overlap_default": WebhookService.overlapHoursDefault, "overlap_max": WebhookService.overlapHoursMax,
            "overlap_until": endpoint.previousSecretExpiresAt.map { WebFormat.time($0, in: zone) } ?? "",
            "overlapping": endpoint.previousSecretExpiresAt != nil,
            "has_deliveries": !deliveries.isEmpty,
            "deliveries": deliveries.map { delivery in
                [
                    "delivery_id": delivery.id, "event_id": delivery.eventID, "type": delivery.type,
                    "when": WebFormat.time(delivery.createdAt, in: zone),
                    "status": WebRoutes.deliveryStatus(delivery, in: zone),
                    "delivered": delivery.status == "delivered",
                    "attempts": WebFormat.count(delivery.attempts, "attempt"),
                    "last": delivery.lastStatus.map { "HTTP \($0)" } ?? delivery.lastError ?? "",
                    "has_last": delivery.lastStatus != nil || delivery.lastError != nil,
                    "payload": delivery.payload,
                    "tries": delivery.tries.map { attempt in
                        [
                            "at": WebFormat.time(attempt.at, in: zone),
                            "answer": attempt.statusCode.map { "HTTP \($0)" } ?? "no answer",
                            "error": attempt.error ?? "", "has_error": attempt.error != nil,
                            "milliseconds": "\(attempt.milliseconds) ms",
                        ]
                    },
                ] as [String: Any]
            },
            "rotated": false,
        ]
        if let rotated, let secret = rotated.secret { values["rotated"] = ["secret": secret] }
        return try await pages.page(
            "webhook",
            title: "Webhook endpoint",
            section: "webhooks",
            request: request,
            context: context,
            values: values
        )
    }
}
