//! Checking a code and the customer sessions it opens.

use super::*;

impl Services {
    /// Checks `code` for `phone` and `purpose`, given from client address `client`; the
    /// right code opens a customer session (and is used up).
    ///
    /// # Errors
    ///
    /// [`OtpError::MalformedCode`]; [`OtpError::WrongCode`] (wrong, expired or none
    /// sent); [`OtpError::Locked`] after [`OTP_MAX_ATTEMPTS`] guesses;
    /// [`OtpError::TooManyGuesses`] when the address guessed wrong too often lately;
    /// [`OtpError::UnknownBrand`], [`OtpError::Store`].
    pub async fn verify_otp(
        &self,
        brand: BrandId,
        phone: &Phone,
        purpose: OtpPurpose,
        code: &str,
        client: &str,
    ) -> Result<OpenedSession, OtpError> {
        let now = self.clock.now();
        if let Some(retry_after) =
            self.otp
                .failures
                .exhausted(client, OTP_FAILURES_PER_ADDRESS, now)
        {
            return Err(OtpError::TooManyGuesses { retry_after });
        }
        let code = code.trim();
        if !well_formed(code) {
            return Err(OtpError::MalformedCode);
        }
        let phone_key = &self.phone_key(brand, phone);
        let verdict = self
            .transact("verify_otp", |mut tx| async move {
                let result = self
                    .verify_in(tx.as_mut(), brand, phone, purpose, phone_key, code, now)
                    .await;
                (tx, result)
            })
            .await?;
        match verdict {
            Verdict::Opened(session) => Ok(session),
            Verdict::Refused(error) => {
                self.otp.failures.count(client, now);
                Err(error)
            }
        }
    }

    /// Counts the guess, then compares: the count is committed even for a wrong code
    /// (the verdict is a value, not an error that would roll it back).
    #[allow(clippy::too_many_arguments)]
    async fn verify_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        phone: &Phone,
        purpose: OtpPurpose,
        phone_key: &str,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<Verdict, OtpError> {
        load_brand::<OtpError>(tx, brand).await?;
        let Some(record) = tx.otp().otp(brand, purpose.as_str(), phone_key).await? else {
            return Ok(Verdict::Refused(OtpError::WrongCode { attempts_left: 0 }));
        };
        if record.attempts >= OTP_MAX_ATTEMPTS {
            return Ok(Verdict::Refused(OtpError::Locked));
        }
        if record.expires_at <= now {
            return Ok(Verdict::Refused(OtpError::WrongCode { attempts_left: 0 }));
        }
        // Counted in one statement before the comparison: guesses racing each count,
        // and none is compared once the code has had its five.
        let Some(attempts) = tx
            .otp()
            .count_attempt(brand, purpose.as_str(), phone_key, OTP_MAX_ATTEMPTS)
            .await?
        else {
            return Ok(Verdict::Refused(OtpError::Locked));
        };
        let expected = self.code_hash(brand, purpose, phone, code);
        let right: bool = expected
            .as_bytes()
            .ct_eq(record.code_hash.as_bytes())
            .into();
        if !right {
            let attempts_left = OTP_MAX_ATTEMPTS.saturating_sub(attempts);
            return Ok(Verdict::Refused(if attempts_left == 0 {
                OtpError::Locked
            } else {
                OtpError::WrongCode { attempts_left }
            }));
        }
        tx.otp()
            .delete_otp(brand, purpose.as_str(), phone_key)
            .await?;
        let customer = tx
            .customers()
            .customer_by_phone(brand, phone)
            .await?
            .map(|c| c.id);
        let mut bytes = [0_u8; 32];
        self.ids.fill_bytes(&mut bytes);
        let token = to_hex(&bytes);
        let session = CustomerSession {
            brand_id: brand,
            token_hash: self.token_hash(brand, &token),
            purpose: purpose.as_str().to_owned(),
            phone: phone.clone(),
            customer_id: customer,
            created_at: now,
            expires_at: now + CUSTOMER_SESSION_TTL,
        };
        tx.otp().insert_session(&session).await?;
        Ok(Verdict::Opened(OpenedSession {
            token,
            expires_at: session.expires_at,
        }))
    }

    /// The live session a token opens for the brand: its phone, purpose and customer (if
    /// the phone belongs to one); `None` when the token is unknown or the session ended.
    ///
    /// # Errors
    ///
    /// [`OtpError::Store`].
    pub async fn customer_session(
        &self,
        brand: BrandId,
        token: &str,
    ) -> Result<Option<CustomerSession>, OtpError> {
        let now = self.clock.now();
        let token_hash = &self.token_hash(brand, token);
        self.transact("customer_session", |mut tx| async move {
            let result = tx
                .otp()
                .session(brand, token_hash)
                .await
                .map(|s| s.filter(|s| s.expires_at > now))
                .map_err(OtpError::from);
            (tx, result)
        })
        .await
    }

    /// Binds a session to the customer its phone now belongs to (after signing up).
    ///
    /// # Errors
    ///
    /// [`OtpError::Store`].
    pub async fn bind_customer_session(
        &self,
        brand: BrandId,
        token: &str,
        customer: CustomerId,
    ) -> Result<bool, OtpError> {
        let token_hash = &self.token_hash(brand, token);
        self.transact("bind_customer_session", |mut tx| async move {
            let result = tx
                .otp()
                .bind_session(brand, token_hash, customer)
                .await
                .map_err(OtpError::from);
            (tx, result)
        })
        .await
    }

    /// Ends a customer session (signing out); nothing when there is none.
    ///
    /// # Errors
    ///
    /// [`OtpError::Store`].
    pub async fn end_customer_session(&self, brand: BrandId, token: &str) -> Result<(), OtpError> {
        let token_hash = &self.token_hash(brand, token);
        self.transact("end_customer_session", |mut tx| async move {
            let result = tx
                .otp()
                .delete_session(brand, token_hash)
                .await
                .map_err(OtpError::from);
            (tx, result)
        })
        .await
    }
}
