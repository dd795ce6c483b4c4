//! The dashboard's sign-up posters over real HTTP: an admin sees each location's poster
//! and downloads it as SVG, PNG and PDF; a viewer is refused; a new QR code retires the
//! printed one.

use crate::server::{dbs, spawn};
use crate::signup::{Visitor, poster_shop};
use regulars_ports::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_downloads_posters_and_rotates_the_link() {
    for db in dbs() {
        let server = spawn(db).await;
        let shop = poster_shop(&server, 8501).await;
        let mut admin = Visitor::new(&server);
        let login = admin.get("/dashboard/login").await.expect(200, "login");
        let csrf = login.field("csrf");
        admin
            .post("/dashboard/login", &[("csrf", &csrf), ("key", &shop.admin)])
            .await
            .expect(303, "admin signs in");
        let page = admin.get("/dashboard/posters").await.expect(200, "posters");
        assert!(
            page.text.contains(&format!("/j/{}", shop.token)),
            "{db:?}: {}",
            page.text
        );
        let base = format!("/dashboard/posters/{}/poster", shop.location);
        let svg = admin
            .get(&format!("{base}.svg?text=vi"))
            .await
            .expect(200, "svg");
        assert_eq!(svg.header("content-type"), Some("image/svg+xml"), "{db:?}");
        assert!(svg.text.starts_with("<svg") && svg.text.contains("Quét để tích điểm"));
        let en = admin
            .get(&format!("{base}.svg?text=en"))
            .await
            .expect(200, "svg en");
        assert!(en.text.contains("Scan to collect points"), "{db:?}");
        let png = admin.get(&format!("{base}.png")).await.expect(200, "png");
        assert_eq!(png.header("content-type"), Some("image/png"), "{db:?}");
        assert!(png.bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{db:?}");
        let pdf = admin.get(&format!("{base}.pdf")).await.expect(200, "pdf");
        assert_eq!(
            pdf.header("content-type"),
            Some("application/pdf"),
            "{db:?}"
        );
        assert!(pdf.bytes.starts_with(b"%PDF-"), "{db:?}");
        assert!(
            pdf.header("content-disposition")
                .is_some_and(|d| d.starts_with("attachment;")),
            "{db:?}"
        );
        admin
            .get(&format!("{base}.gif"))
            .await
            .expect(404, "unknown format");

        // A viewer sees no posters.
        let viewer = server
            .services
            .create_api_key(shop.brand, Role::Viewer, None)
            .await
            .unwrap_or_else(|e| panic!("viewer: {e}"));
        let mut someone = Visitor::new(&server);
        let login = someone.get("/dashboard/login").await.expect(200, "login");
        let csrf = login.field("csrf");
        someone
            .post(
                "/dashboard/login",
                &[("csrf", &csrf), ("key", &viewer.token)],
            )
            .await
            .expect(303, "viewer signs in");
        someone
            .get("/dashboard/posters")
            .await
            .expect(403, "viewer");
        someone
            .get(&format!("{base}.pdf"))
            .await
            .expect(403, "viewer pdf");

        // A new QR code retires the printed one.
        let csrf = page.field("csrf");
        admin
            .post(
                &format!("/dashboard/posters/{}/rotate", shop.location),
                &[("csrf", &csrf)],
            )
            .await
            .expect(303, "rotate");
        admin
            .get(&format!("/j/{}", shop.token))
            .await
            .expect(404, "old poster");
        let page = admin.get("/dashboard/posters").await.expect(200, "posters");
        assert!(!page.text.contains(&shop.token), "{db:?}");
        server.stop().await;
    }
}
