// Type declarations for Vite's client features (CSS and asset imports).
/// <reference types="vite/client" />
