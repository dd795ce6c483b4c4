//! The shop's doors: how the simulated customers join and leave the brand's messages.
//!
//! A share of the customers join by the location's poster: they ask for a one-time
//! code, read it from the message the file channel wrote, prove their phone with it and
//! sign up with their own per-channel consent, under the brand's published notice. A
//! share are registered at the till by the location's cashier, who ticks the consent
//! they chose. The rest are made by the POS at their first order, as before, and the
//! cashier records their answers afterwards. Later, some customers who got a
//! promotional message follow the opt-out link in it for that channel.

use super::*;
use regulars_domain::{Channel, Customer};
use regulars_service::till::TillRegistration;
use regulars_service::{OtpPurpose, SignupDetails, TillStaff};
use std::io::{Read, Seek, SeekFrom};

/// Share of the customers who join by the poster, and at the till.
const BY_POSTER: f64 = 0.3;
const AT_TILL: f64 = 0.3;
/// Chance that a customer opts out of the channel a promotional message reached them on.
const OPT_OUT: f64 = 0.08;
/// The cashier's PIN at every demo till.
const PIN: &str = "2468";

/// How a customer joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Door {
    /// The location's poster: a one-time code, then the sign-up page.
    Poster,
    /// Registered at the till by a staff member.
    Till,
    /// Made by the POS at their first order.
    Pos,
}

/// What the doors need: the posters' tokens and the signed-in tills, per location.
pub(super) struct Doors {
    pub(super) rng: Rng,
    notice_version: u32,
    posters: Vec<String>,
    tills: Vec<TillStaff>,
}

/// Consent and opt-out figures for the story.
#[derive(Default)]
pub(super) struct ConsentTally {
    /// Customers by how they joined.
    pub(super) joined: BTreeMap<Door, u64>,
    /// Marketing consent granted, by door and channel.
    pub(super) granted: BTreeMap<(Door, Channel), u64>,
    /// Opt-outs by the link in a message, by channel.
    pub(super) opted_out: BTreeMap<Channel, u64>,
    /// Campaign-run skips, by reason.
    pub(super) skipped: BTreeMap<String, u64>,
    /// One-time codes delivered.
    pub(super) codes: u64,
}

impl Doors {
    /// Publishes the brand's notice, and for every location prints its poster's link
    /// and enrols a till with one cashier, signed in.
    pub(super) async fn open(services: &Services, brand: BrandId, seed: u64) -> Result<Doors> {
        let texts = BTreeMap::from([
            (
                "vi".to_owned(),
                "Mây Tea dùng số điện thoại, tên, ngày sinh và lịch sử mua hàng của bạn để \
                 tích điểm và gửi ưu đãi theo kênh bạn đồng ý."
                    .to_owned(),
            ),
            (
                "en".to_owned(),
                "Mây Tea uses your phone, name, birthday and purchases for your points and \
                 sends offers on the channels you agree to."
                    .to_owned(),
            ),
        ]);
        let notice = services
            .publish_notice(brand, texts)
            .await
            .context("publishing the demo notice")?;
        let locations = services.locations(brand).await?;
        let mut posters = Vec::new();
        let mut tills = Vec::new();
        for (code, _, _) in LOCATIONS {
            let location = locations
                .iter()
                .find(|l| l.code == *code)
                .with_context(|| format!("location {code}"))?;
            posters.push(services.signup_token(brand, location.id).await?);
            let device = services
                .enrol_till_device(brand, location.id, Some("Quầy 1".to_owned()))
                .await?;
            let staff = services
                .add_staff(brand, location.id, "Thu ngân", PIN)
                .await?;
            tills.push(services.till_sign_in(&device.token, staff.id, PIN).await?);
        }
        Ok(Doors {
            rng: Rng::new(seed ^ 0x00D0_0125),
            notice_version: notice.version,
            posters,
            tills,
        })
    }

    /// Which door a new customer comes through.
    pub(super) fn draw(&mut self) -> Door {
        let x = self.rng.uniform();
        if x < BY_POSTER {
            Door::Poster
        } else if x < BY_POSTER + AT_TILL {
            Door::Till
        } else {
            Door::Pos
        }
    }

    pub(super) fn opts_out(&mut self) -> bool {
        self.rng.chance(OPT_OUT)
    }
}

/// The marketing channels a profile's answers grant.
fn granted(consent: &ConsentPatch) -> Vec<Channel> {
    [
        (Channel::Zalo, consent.zalo),
        (Channel::Sms, consent.sms),
        (Channel::Email, consent.email),
    ]
    .into_iter()
    .filter(|(_, given)| *given == Some(true))
    .map(|(c, _)| c)
    .collect()
}

impl Demo {
    /// A customer's first visit: they join through their door at `location` before the
    /// order is rung up. POS customers join with the order itself.
    pub(super) async fn join(&mut self, customer: usize, location: usize) -> Result<()> {
        let door = self.doors.draw();
        *self.consent.joined.entry(door).or_default() += 1;
        let profile = self.personas[customer].profile.clone();
        for channel in granted(&profile.consent) {
            *self.consent.granted.entry((door, channel)).or_default() += 1;
        }
        let joined = match door {
            Door::Pos => return Ok(()),
            Door::Poster => {
                let invite = self.invite_for(customer).await?;
                self.sign_up(customer, location, invite.as_deref()).await?
            }
            Door::Till => {
                let p = &self.personas[customer];
                let registration = TillRegistration {
                    phone: p.phone.clone(),
                    name: p.profile.name.clone(),
                    sms: p.profile.consent.sms == Some(true),
                    zalo: p.profile.consent.zalo == Some(true),
                    email: p.profile.consent.email == Some(true),
                    notice_version: Some(self.doors.notice_version),
                };
                self.services
                    .till_register(&self.doors.tills[location], &registration)
                    .await
                    .context("registering a customer at the till")?
            }
        };
        // The rest of the profile (email, Zalo id, birthday) is taken afterwards; the
        // consent is the one just given, untouched.
        let rest = CustomerInput {
            consent: ConsentPatch::default(),
            notice_version: None,
            consent_source: None,
            ..profile
        };
        self.services
            .update_customer(
                self.brand,
                joined.id,
                rest,
                &ChangeAuthor {
                    actor: "demo".to_owned(),
                    source: ChangeSource::Till,
                },
            )
            .await
            .context("completing a new customer's profile")?;
        self.customer_ids.insert(customer, joined.id);
        self.by_customer.insert(joined.id, customer);
        Ok(())
    }

    /// The poster: a code to the phone, read from the message, proved, then the form;
    /// through a member's `invite` link when given.
    pub(super) async fn sign_up(
        &mut self,
        customer: usize,
        location: usize,
        invite: Option<&str>,
    ) -> Result<Customer> {
        let brand = self.brand;
        let p = &self.personas[customer];
        let phone = Phone::parse(&p.phone, Phone::VIETNAM)?;
        let client = format!("demo-phone-{customer}");
        self.services
            .issue_otp(brand, &phone, OtpPurpose::SignUp, &client)
            .await
            .context("asking for a sign-up code")?;
        let code = self.read_code(phone.as_str()).await?;
        let session = self
            .services
            .verify_otp(brand, &phone, OtpPurpose::SignUp, &code, &client)
            .await
            .context("proving the phone with the code")?;
        let p = &self.personas[customer];
        let details = SignupDetails {
            name: p.profile.name.clone().unwrap_or_default(),
            birthday: p
                .profile
                .birthday
                .map(|d| d.to_string())
                .unwrap_or_default(),
            zalo: p.profile.consent.zalo == Some(true),
            sms: p.profile.consent.sms == Some(true),
            email: p.profile.consent.email == Some(true),
            profiling: p.profile.consent.profiling == Some(true),
            programme: true,
            notice_version: Some(self.doors.notice_version),
        };
        let poster = &self.doors.posters[location];
        match invite {
            Some(invite) => self
                .services
                .sign_up_referred(poster, &session.token, &details, invite, &client)
                .await
                .map(|(customer, _)| customer)
                .context("signing up through an invite"),
            None => self
                .services
                .sign_up(poster, &session.token, &details)
                .await
                .context("signing up from the poster"),
        }
    }

    /// Delivers what is due and finds the code sent to `recipient` among the lines the
    /// file channel wrote.
    async fn read_code(&mut self, recipient: &str) -> Result<String> {
        let read_to = std::fs::metadata(&self.messages).map_or(0, |m| m.len());
        self.deliver().await?;
        let mut file = std::fs::File::open(&self.messages)
            .with_context(|| format!("reading {}", self.messages.display()))?;
        file.seek(SeekFrom::Start(read_to))?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let mut code = None;
        for line in text.lines() {
            let message: serde_json::Value = serde_json::from_str(line)?;
            match message["data"]["otp"].as_str() {
                Some(otp) if message["recipient"].as_str() == Some(recipient) => {
                    self.consent.codes += 1;
                    code = Some(otp.to_owned());
                }
                // Another customer's code; the rest are campaign messages and the
                // managers' low-rating notices.
                Some(_) => self.consent.codes += 1,
                None => {}
            }
        }
        code.context("no sign-up code was delivered")
    }

    /// Sends what is due through the file channel.
    pub(super) async fn deliver(&mut self) -> Result<u64> {
        let options = DeliveryOptions::default();
        let mut sent = 0;
        loop {
            let round = self
                .services
                .deliver_due(&self.senders, &options)
                .await
                .context("delivering messages")?;
            sent += round.sent;
            if round.claimed < options.batch {
                return Ok(sent);
            }
        }
    }

    /// A customer follows the opt-out link of a message that reached them on `channel`.
    pub(super) async fn maybe_opt_out(&mut self, id: CustomerId, channel: Channel) -> Result<()> {
        if !self.doors.opts_out() {
            return Ok(());
        }
        let token = self
            .services
            .opt_out_token(self.brand, id, Some(channel))
            .context("the demo signs opt-out links")?;
        let view = self.services.opt_out_view(&token).await?;
        let before = view.consent;
        let after = self.services.opt_out(&token, Some(channel)).await?.consent;
        if before != after {
            *self.consent.opted_out.entry(channel).or_default() += 1;
        }
        Ok(())
    }
}

impl ConsentTally {
    /// The story's lines about joining, consent and opt-outs.
    pub(super) fn print(&self) {
        let joined = |door| self.joined.get(&door).copied().unwrap_or(0);
        println!(
            "  joined: {} by the poster (one-time code), {} at the till, {} made by the POS",
            joined(Door::Poster),
            joined(Door::Till),
            joined(Door::Pos)
        );
        let granted = |door, channel| self.granted.get(&(door, channel)).copied().unwrap_or(0);
        let channels = [
            (Channel::Zalo, "Zalo"),
            (Channel::Sms, "SMS"),
            (Channel::Email, "email"),
        ];
        let per_channel: Vec<String> = channels
            .iter()
            .map(|&(channel, name)| {
                let [poster, till, pos] =
                    [Door::Poster, Door::Till, Door::Pos].map(|door| granted(door, channel));
                format!(
                    "{name} {} (poster {poster}, till {till}, POS {pos})",
                    poster + till + pos
                )
            })
            .collect();
        println!("  consent granted: {}", per_channel.join(", "));
        let out = |channel| self.opted_out.get(&channel).copied().unwrap_or(0);
        println!(
            "  opt-outs: Zalo {}, SMS {}, email {}, all by the unsubscribe link in a message",
            out(Channel::Zalo),
            out(Channel::Sms),
            out(Channel::Email)
        );
        let skipped = |reason: &str| self.skipped.get(reason).copied().unwrap_or(0);
        println!(
            "  campaign runs skipped: opted_out {}, no_channel {} (no consented channel to reach them on); {} sign-up codes sent",
            skipped("opted_out"),
            skipped("no_channel"),
            self.codes
        );
    }
}
