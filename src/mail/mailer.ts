// Outgoing mail over SMTP (nodemailer) at the configured smtp_url; null when none is configured.
import nodemailer from 'nodemailer';
import type { Config } from '../config/types.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

export function createMailer(config: Pick<Config, 'smtp_url' | 'mail_from' | 'domain'>): Mailer | null {
  if (!config.smtp_url) return null;
  const transport = nodemailer.createTransport(config.smtp_url);
  const from = config.mail_from ?? `no-reply@${config.domain}`;
  return {
    async send(mail) {
      await transport.sendMail({ from, ...mail });
    },
    close: () => transport.close(),
  };
}
