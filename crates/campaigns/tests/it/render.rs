use regulars_campaigns::render::{Template, TemplateError, Values, format_money};
use regulars_domain::{Currency, Money};

#[test]
fn money_formats() {
    let vnd = |n| format_money(&Money::from_minor_units(n, Currency::VND));
    assert_eq!(vnd(0), "0 ₫");
    assert_eq!(vnd(999), "999 ₫");
    assert_eq!(vnd(1_000), "1.000 ₫");
    assert_eq!(vnd(45_000), "45.000 ₫");
    assert_eq!(vnd(1_234_567), "1.234.567 ₫");
    assert_eq!(vnd(-20_000), "-20.000 ₫");
    let usd = |n| format_money(&Money::from_minor_units(n, Currency::USD));
    assert_eq!(usd(450), "$4.50");
    assert_eq!(usd(5), "$0.05");
    assert_eq!(usd(100_000_000), "$1,000,000.00");
    let jpy = format_money(&Money::from_minor_units(1200, "JPY".parse().unwrap()));
    assert_eq!(jpy, "1,200 JPY");
}

#[test]
fn templates_are_checked() {
    assert_eq!(
        Template::parse("Hi {{nme}}"),
        Err(TemplateError::UnknownVariable { name: "nme".into() })
    );
    assert_eq!(
        Template::parse("Hi {{name"),
        Err(TemplateError::Unclosed { offset: 3 })
    );
    assert_eq!(Template::parse("  "), Err(TemplateError::Empty));
}

#[test]
fn every_variable_renders() {
    let t = Template::parse(
        "{{name}}|{{reward}}|{{reward_value}}|{{points}}|{{balance}}|{{expiry_date}}|{{shop}}|{{tier}}|{{code}}",
    )
    .unwrap();
    let v = Values {
        name: Some("Lan".into()),
        reward: Some("R".into()),
        reward_value: Some("10%".into()),
        points: Some("50".into()),
        balance: Some("1.250".into()),
        expiry_date: Some("02/03/2026".into()),
        shop: Some("S".into()),
        tier: Some("gold".into()),
        code: Some("7K2M".into()),
        bonus_points: Some("50".into()),
        rating_link: Some("https://x/f/t".into()),
    };
    assert_eq!(t.render(&v), "Lan|R|10%|50|1.250|02/03/2026|S|gold|7K2M");
    assert_eq!(t.render(&Values::default()), "bạn||||||||");
    assert!(Template::parse("{{code}}").unwrap().uses_offer());
    assert!(t.uses_offer());
    assert!(!Template::parse("{{name}}").unwrap().uses_offer());
}
