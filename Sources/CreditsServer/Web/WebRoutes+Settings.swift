import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// SMS settings: brand and number registration, header/footer/signup message, sending hours,
/// smart encoding, replies, and auto-renew.
extension WebRoutes {
    func addSettings(to portal: RouterGroup<AppRequestContext>) {
        let (administration, registration, autoRenew) = (administration, registration, autoRenew)
        let routes = self
        portal.get("/settings/sms") { request, context in try await routes.settingsPage(request, context) }
        portal.post("/settings/sms") { _, context in
            try await WebRoutes.submit(context, back: "/settings/sms") { principal, form in
                let patch = try form.input(
                    SMSSettingsPatch.self,
                    [
                        "header": .text, "footer": .text, "signup_message": .text, "smart_encoding": .bool,
                        "reply_mode": .optionalText,
                        "sending_hours.start": .optionalText, "sending_hours.end": .optionalText,
                        "sending_hours.days": .list,
                        "sending_hours.time_zone": .optionalText,
                        "opt_out_reply": .text, "opt_in_reply": .text, "help_reply": .text, "no_reply_notice": .text,
                        "opt_in_wording": .text, "join_keyword": .bool, "opt_in_page": .bool, "mms_as_link": .bool,
                        "reprocess_from_toll_free": .bool,
                    ]
                )
                _ = try await administration.updateSMSSettings(principal, patch)
                return ("/settings/sms", "SMS settings saved.")
            }
        }
        portal.post("/settings/sms/brand") { _, context in
            try await WebRoutes.submit(context, back: "/settings/sms#registration") { principal, form in
                let input = try form.input(
                    BrandInput.self,
                    Dictionary(
                        uniqueKeysWithValues: [
                            "legal_name", "tax_id", "website", "email", "phone", "street", "city", "region",
                            "postal_code", "vertical",
                        ].map { ($0, WebForm.Kind.text) }
                    )
                )
                _ = try await registration.registerBrand(principal, input.brand)
                return ("/settings/sms#registration", "Brand information submitted; brand registration is in process.")
            }
        }
        portal.post("/settings/sms/brand/reset") { _, context in
            try await WebRoutes.submit(context, back: "/settings/sms#registration") { principal, _ in
                _ = try await registration.resetBrand(principal)
                return ("/settings/sms#registration", "Brand registration reset. Enter the brand again.")
            }
        }
        portal.post("/settings/sms/numbers") { _, context in
            try await WebRoutes.submit(context, back: "/settings/sms#registration") { principal, form in
                let input = try form.input(NumberInput.self, ["area_code": .text])
                _ = try await registration.requestNumber(principal, areaCode: input.areaCode)
                return (
                    "/settings/sms#registration",
                    "Phone number registration in area code \(input.areaCode ?? "") is in process."
                )
            }
        }
        portal.post("/settings/auto-renew") { _, context in
            try await WebRoutes.submit(context, back: "/settings/sms#auto-renew") { principal, form in
                let input = try form.input(
                    AutoRenewInput.self,
                    ["enabled": .bool, "credits": .number, "threshold": .number, "mode": .optionalText]
                )
                let view = try await autoRenew.update(principal, input)
                return ("/settings/sms#auto-renew", view.enabled ? "Auto-renew is on." : "Auto-renew is off.")
            }
        }
    }

    /// The SMS settings page: registration, messages, sending hours and auto-renew.
    func settingsPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.authenticated()
        try WebPages.require("settings", principal)
        let settings = principal.organization.smsSettings
        let setup = try await registration.view(principal)
        let renewal = try await autoRenew.view(principal)
        let prices = try await billing.view(principal).prices
        var values: [String: Any] = [
            "settings": try JSONValue.of(settings).template,
            "limits": [
                "header": MessagePart.header.lengthMax, "footer": MessagePart.footer.lengthMax,
                "signup_message": MessagePart.signupMessage.lengthMax, "reply": SMSSettings.replyLengthMax,
                "opt_in_wording": SMSSettings.optInWordingLengthMax,
            ],
            "join_url": "\(linkBase())/join/\(principal.organizationID.rawValue)",
            "account_name": principal.organization.name,
            "days": Weekday.allCases.map { day in
                [
                    "value": day.rawValue, "label": day.rawValue.capitalized,
                    "checked": settings.sendingHours.days.contains(day),
                ]
            },
            "two_way": settings.replyMode == .twoWay,
            "numbers": setup.numbers.map { number -> [String: Any] in
                var values: [String: Any] = [
                    "number": WebFormat.phone(number.number), "kind": number.kind,
                    "monthly": "\(number.monthlyCredits ?? 0) credits a month",
                ]
                if let state = number.verification {
                    let labels = [
                        "pending": "verification pending: sends once approved", "verified": "verified",
                        "rejected": "verification rejected",
                    ]
                    values["verification"] = [
                        "state": state, "label": labels[state] ?? state,
                        "message": (number.verificationMessage as Any?) ?? false,
                    ]
                }
                return values
            },
            "has_toll_free": setup.numbers.contains { $0.kind == "toll_free" },
            "requests": try JSONValue.of(setup.numberRequests).template,
            "self_serve": setup.selfServe,
            "has_requests": !setup.numberRequests.isEmpty,
            "auto_renew": try JSONValue.of(renewal).template,
            "monthly": renewal.mode == .monthly,
            "purchase_minimum": String(prices?.purchaseMinimum ?? 1),
            "can_buy": principal.can(.purchaseCredits),
        ]
        if renewal.credits > 0, let quote = try? billing.quote(principal, credits: renewal.credits) {
            values["auto_renew_total"] = quote.total.text
        }
        if let brand = setup.brand {
            values["brand"] = try JSONValue.of(brand).template
            values["brand_state"] =
                brand.status == .registered ? "Registered" : (brand.status == .failed ? "Failed" : "In process")
            values["brand_failed"] = brand.status == .failed
            values["may_request_number"] = brand.status != .failed
        }
        return try await pages.page(
            "settings",
            title: "SMS settings",
            section: "settings",
            request: request,
            context: context,
            values: values
        )
    }
}
