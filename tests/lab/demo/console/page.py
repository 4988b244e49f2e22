"""The console page as a test sees it: click what the instructor clicks, read the page."""

from __future__ import annotations

from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

#: Seconds a step may take on a busy 2-core machine (a mode switch restarts replicas).
STEP = 60


class ConsolePage:
    """One browser tab on the console."""

    def __init__(self, driver: WebDriver, url: str):
        self.driver = driver
        driver.get(url)
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))

    def wait_for(self, condition, timeout: float = STEP):
        """Wait until `condition(driver)` is truthy; return its value."""
        # The page re-renders lists as answers come in: an element read mid-render is retried.
        return WebDriverWait(
            self.driver,
            timeout,
            poll_frequency=0.1,
            ignored_exceptions=(StaleElementReferenceException,),
        ).until(condition)

    def text(self, element_id: str) -> str:
        return self.driver.find_element(By.ID, element_id).text

    def click(self, element_id: str) -> None:
        self.driver.find_element(By.ID, element_id).click()

    def use(self, key: str) -> None:
        """Pick a server and mode, and wait for the lab to run it."""
        self.driver.find_element(By.CSS_SELECTOR, f'#settings button[data-key="{key}"]').click()
        self.wait_for(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, "#settings button.active").get_attribute("data-key")
                == key
                and self.text("lab-line").startswith(key)
            )
        )

    def bind(self, binding: str) -> None:
        """Flip the current mode's binding toggle, and wait for the lab to run it."""
        self.driver.find_element(
            By.CSS_SELECTOR, f'#binding button[data-binding="{binding}"]'
        ).click()
        words = {"none": "unbound", "dbsc": "bound: DBSC", "dpop": "bound: DPoP"}[binding]
        self.wait_for(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, "#binding button.active").get_attribute(
                    "data-binding"
                )
                == binding
                and f" · {words}" in self.text("lab-line")
            )
        )

    def left_alone(self) -> tuple[str, str]:
        """The bound verdict band: its state ("none", "working", "refused") and its text."""
        band = self.driver.find_element(By.ID, "left-alone")
        return band.get_attribute("data-state") or "", self.text("left-alone-text")

    def log(self, who: str) -> list[dict[str, str | None]]:
        """The entries of a pane's log, newest first."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map(li => ({"
            "text: li.textContent, status: li.dataset.status || null,"
            "since: li.dataset.since || null, theft: li.dataset.theft || null,"
            "class: li.className}))",
            f"#{who}-log li",
        )

    def wait_log(self, who: str, contains: str) -> dict[str, str | None]:
        """The newest entry of a pane's log that contains `contains`, once there is one."""

        def found(_):
            return next((e for e in self.log(who) if contains in (e["text"] or "")), None)

        return self.wait_for(found)

    def login_and_steal(self) -> list[str | None]:
        """Steps 1 and 2: the victim logs in, the attacker copies the cookie and tries it on
        every replica directly; returns those statuses."""
        self.click("victim-login")
        self.wait_log("victim", "logged in as")
        self.click("attacker-steal")
        self.wait_for(lambda d: "Cookie:" in self.text("attacker-cookie"))
        replicas = self.driver.execute_script("return fetch('/api/lab').then(r => r.json())")
        self.click("attacker-everywhere")
        count = replicas["replicas"]
        self.wait_for(lambda d: len([e for e in self.log("attacker") if e["status"]]) >= count)
        return [e["status"] for e in self.log("attacker") if e["status"]]

    def act(self, action: str) -> str:
        """Step 3; returns the promise band's state ("revoked" or "not-revoked")."""
        self.click(f"action-{action}")
        return self.wait_for(
            lambda d: (
                d.find_element(By.ID, "promise").get_attribute("data-state") != "none"
                and d.find_element(By.ID, "promise").get_attribute("data-state")
            )
        )

    def attacker_after(self) -> list[dict[str, str | None]]:
        """The attacker's tries since the revocation, oldest first."""
        return [e for e in reversed(self.log("attacker")) if e["since"]]

    def wait_attacker_after(self, status: str, timeout: float = STEP) -> dict[str, str | None]:
        """The first try after the revocation that got `status` (the live loop keeps trying)."""
        return self.wait_for(
            lambda d: next((e for e in self.attacker_after() if e["status"] == status), None),
            timeout,
        )

    def start_attack(self) -> None:
        if self.driver.find_element(By.ID, "attack-toggle").get_attribute("aria-pressed") != "true":
            self.click("attack-toggle")

    def stop_attack(self) -> None:
        if self.driver.find_element(By.ID, "attack-toggle").get_attribute("aria-pressed") == "true":
            self.click("attack-toggle")

    def broken_promises(self) -> list[str]:
        return [e["text"] or "" for e in self.log("attacker") if "broken" in (e["class"] or "")]

    def screenshot(self, folder: Path, name: str) -> Path:
        path = folder / f"{name}.png"
        assert self.driver.save_screenshot(str(path)), f"no screenshot at {path}"
        return path
