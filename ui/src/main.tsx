// Entry point of the web UI inside the Tauri window.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.scss';

const root = document.getElementById('root');
if (root === null) {
  throw new Error('The page has no root element');
}
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
