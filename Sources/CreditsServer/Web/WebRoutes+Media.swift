import CreditsCore
import CreditsServices
import Foundation
import Hummingbird

/// The composer's picture: uploaded with the session (the form's CSRF token in the upload), and
/// shown to staff of the organisation.
extension WebRoutes {
    func addMedia(to portal: RouterGroup<AppRequestContext>) {
        let media = media
        portal.post("/app/media") { _, context in
            let (principal, form) = try context.webForm()
            guard let file = form.file("file") else {
                throw APIError(.badRequest, "file_required", "Choose a picture to attach.", field: "file")
            }
            let view = try await media.upload(principal, filename: file.fileName, bytes: Data(buffer: file.bytes))
            return try JSONOutput.response(view, status: .created)
        }
        portal.get("/app/media/:id") { _, context in
            let (view, bytes) = try await media.content(try context.authenticated(), try context.parameter("id"))
            return MediaRoutes.file(view, bytes)
        }
    }

    /// A message's or campaign's media as a page shows them: pictures inline, anything else
    /// (a PDF, a vCard, a sound) as a link with its name.
    func attachments(_ ids: [String]?, of organization: OrganizationID) async throws -> [[String: Any]] {
        guard let ids, !ids.isEmpty else { return [] }
        return try await media.items(ids, of: organization).map { item in
            ["id": item.id, "image": item.kind.isImage, "filename": item.filename]
        }
    }
}
