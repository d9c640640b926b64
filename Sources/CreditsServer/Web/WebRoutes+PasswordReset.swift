import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// "Forgot your password?": ask for a link by email, then choose a new password through it.
/// Before a session exists, each form is protected like sign-in's: a random cookie the form must
/// repeat.
extension WebRoutes {
    static let resetCookie = "tc_reset"

    func addPasswordReset(to router: Router<AppRequestContext>) {
        let (passwordResets, linkBase) = (passwordResets, linkBase)
        router.get("/password-reset") { request, _ in
            WebRoutes.resetPage(request, template: "password-reset", title: "Choose a new password", values: [:])
        }
        router.post("/password-reset") { request, _ in
            var request = request
            let form = try await WebForm.read(&request)
            guard WebRoutes.repeatsCookie(request, form, WebRoutes.resetCookie) else {
                return WebRoutes.resetPage(
                    request,
                    template: "password-reset",
                    title: "Choose a new password",
                    values: [
                        "error": "This form is out of date. Please try again.", "email": form.value("email") ?? "",
                    ]
                )
            }
            try await passwordResets.request(email: form.value("email") ?? "", linkBase: linkBase())
            return WebResponse.redirect(
                "/sign-in",
                notice:
                    "If an account signs in with that email, a link to choose a new password is on its way. It works once, for an hour."
            )
        }
        router.get("/password-reset/:token") { request, context in
            let token = try context.parameter("token")
            guard try await passwordResets.isUsable(token) else {
                return WebRoutes.resetPage(
                    request,
                    template: "password-reset",
                    title: "Choose a new password",
                    values: ["error": PasswordResetError.linkUnusable.message],
                    status: .notFound
                )
            }
            return WebRoutes.resetPage(
                request,
                template: "password-choose",
                title: "Choose a new password",
                values: ["token": token]
            )
        }
        router.post("/password-reset/:token") { request, context in
            var request = request
            let token = try context.parameter("token")
            let form = try await WebForm.read(&request)
            func again(_ error: String, _ status: HTTPResponse.Status) -> Response {
                WebRoutes.resetPage(
                    request,
                    template: "password-choose",
                    title: "Choose a new password",
                    values: ["token": token, "error": error],
                    status: status
                )
            }
            guard WebRoutes.repeatsCookie(request, form, WebRoutes.resetCookie) else {
                return again("This form is out of date. Please try again.", .forbidden)
            }
            guard form.value("password") == form.value("password_again") else {
                return again("The two passwords are not the same.", .unprocessableContent)
            }
            do {
                let staff = try await passwordResets.reset(token: token, password: form.value("password") ?? "")
                return WebResponse.redirect(
                    "/sign-in",
                    notice: "Password changed for \(staff.email). Sign in with it; other devices were signed out."
                )
            } catch let error as PasswordResetError {
                return WebRoutes.resetPage(
                    request,
                    template: "password-reset",
                    title: "Choose a new password",
                    values: ["error": error.message],
                    status: .notFound
                )
            } catch let error as any DomainError {
                return again(error.message, .unprocessableContent)
            }
        }
    }

    /// True when a form shown before sign-in repeats, in `_csrf`, the random cookie its page set
    /// (the double-submit check of the sign-in and password-reset forms).
    static func repeatsCookie(_ request: Request, _ form: WebForm, _ cookie: String) -> Bool {
        guard let value = request.cookies[cookie]?.value, let presented = form.value("_csrf") else { return false }
        return APIKeys.constantTimeEqual(value, presented)
    }

    /// A page of the reset flow, with its form's token in a cookie for `/password-reset`.
    static func resetPage(
        _ request: Request,
        template: String,
        title: String,
        values: [String: Any],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let token = request.cookies[resetCookie]?.value ?? APIKeys.randomText(bytes: 32)
        var values = values
        values["csrf"] = token
        var response = WebPages.bare(template, title: title, values: values, status: status)
        response.setCookie(
            Cookie(
                name: resetCookie,
                value: token,
                maxAge: 3600,
                path: "/password-reset",
                httpOnly: true,
                sameSite: .strict
            )
        )
        return response
    }
}
